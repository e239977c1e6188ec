// The limits that keep a hostile or broken file from exhausting a worker: their defaults, and the setting that raises each.

export interface IngestLimits {
  /** columns of a file's header, and values of any one row */
  maxColumns: number;
  /** characters of one CSV line or JSON record (and so of any one value) */
  maxLineChars: number;
  /** nesting levels of a JSON record's objects and arrays */
  maxJsonDepth: number;
  /** bytes a workbook's shared strings unpack to: the spreadsheet reader holds them all in memory */
  maxSharedStringsBytes: number;
}

const MiB = 1024 * 1024;

export const DEFAULT_INGEST_LIMITS: IngestLimits = {
  // real exports have tens of columns; 150,000 made each row cost ~21 ms of CPU
  maxColumns: 1000,
  maxLineChars: MiB,
  maxJsonDepth: 32,
  // short strings hold about 1.5 bytes of heap per byte of XML (1M strings, 22 MB of XML: 33 MB), so
  // at most ~50 MB of a worker's 192 MB heap
  maxSharedStringsBytes: 32 * MiB,
};

/** The environment variable that raises each limit, named in the error a file over it gets. */
export const INGEST_LIMIT_SETTINGS: Record<keyof IngestLimits, string> = {
  maxColumns: 'INGEST_MAX_COLUMNS',
  maxLineChars: 'INGEST_MAX_LINE_CHARS',
  maxJsonDepth: 'INGEST_MAX_JSON_DEPTH',
  maxSharedStringsBytes: 'INGEST_MAX_XLSX_SHARED_STRINGS_MB',
};

/** The bytes an SFTP or HTTPS source's file may have when its source sets no maxFileMB. */
export const DEFAULT_SOURCE_MAX_FILE_BYTES = 2048 * MiB;
export const SOURCE_MAX_FILE_SETTING = 'SOURCE_MAX_FILE_MB';
