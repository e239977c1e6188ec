// Reads a zip (an .xlsx) from an open file: checked before anything unpacks it (declared sizes, hidden
// entries, the real inflated size), then its entries opened one by one, in any order.
import { PassThrough, pipeline, Readable, type Transform } from 'node:stream';
import { createInflateRaw } from 'node:zlib';
import type { SpooledFile } from './spool';
import { ParseError } from './types';

export interface ZipLimits {
  /** The most the entries may unpack to, all together, in bytes. */
  maxUncompressedBytes: number;
  maxEntries: number;
}

export interface ZipEntry {
  name: string;
  method: number;
  compressedSize: number;
  uncompressedSize: number;
  localHeaderOffset: number;
  /** Where the entry's compressed bytes start, after its local header. */
  dataOffset: number;
}

const EOCD = 0x06054b50;
const ZIP64_LOCATOR = 0x07064b50;
const ZIP64_EOCD = 0x06064b50;
const CENTRAL_HEADER = 0x02014b50;
const LOCAL_HEADER = 0x04034b50;
// A data descriptor (optional signature, CRC, two sizes; 64-bit sizes in zip64) may follow an entry.
const MAX_DESCRIPTOR = 24;

const notZip = (detail: string): ParseError =>
  new ParseError(
    'not-xlsx',
    `the file is not a readable .xlsx workbook: ${detail}; save it again from Excel as .xlsx, or send a CSV`,
  );
const megabytes = (bytes: number): string => `${Math.round(bytes / 1024 / 1024)} MB`;

async function readAt(file: SpooledFile, position: number, length: number): Promise<Buffer> {
  const buffer = await file.readAt(position, length);
  if (buffer.length < length) throw notZip('it ends in the middle of its zip structure');
  return buffer;
}

async function centralDirectory(
  file: SpooledFile,
  size: number,
): Promise<{ offset: number; size: number; entries: number }> {
  const tailLength = Math.min(size, 22 + 0xffff);
  const tail = await readAt(file, size - tailLength, tailLength);
  let at = tail.length - 22;
  while (at >= 0 && tail.readUInt32LE(at) !== EOCD) at -= 1;
  if (at < 0) throw notZip('it has no zip directory');
  let entries = tail.readUInt16LE(at + 10);
  let cdSize = tail.readUInt32LE(at + 12);
  let cdOffset = tail.readUInt32LE(at + 16);
  if (entries === 0xffff || cdSize === 0xffffffff || cdOffset === 0xffffffff) {
    const locatorAt = size - tailLength + at - 20;
    const locator = locatorAt >= 0 ? await readAt(file, locatorAt, 20) : undefined;
    if (!locator || locator.readUInt32LE(0) !== ZIP64_LOCATOR) throw notZip('its zip64 directory is missing');
    const record = await readAt(file, Number(locator.readBigUInt64LE(8)), 56);
    if (record.readUInt32LE(0) !== ZIP64_EOCD) throw notZip('its zip64 directory is damaged');
    entries = Number(record.readBigUInt64LE(32));
    cdSize = Number(record.readBigUInt64LE(40));
    cdOffset = Number(record.readBigUInt64LE(48));
  }
  if (cdOffset + cdSize > size) throw notZip('its zip directory points past the end of the file');
  return { offset: cdOffset, size: cdSize, entries };
}

function zip64Values(
  extra: Buffer,
  wanted: { uncompressed: boolean; compressed: boolean; offset: boolean },
): bigint[] {
  for (let at = 0; at + 4 <= extra.length;) {
    const id = extra.readUInt16LE(at);
    const length = extra.readUInt16LE(at + 2);
    if (id === 0x0001) {
      const values: bigint[] = [];
      const count = Number(wanted.uncompressed) + Number(wanted.compressed) + Number(wanted.offset);
      for (let i = 0; i < count && at + 4 + i * 8 + 8 <= extra.length; i += 1)
        values.push(extra.readBigUInt64LE(at + 4 + i * 8));
      return values;
    }
    at += 4 + length;
  }
  return [];
}

function parseEntries(directory: Buffer, count: number): Omit<ZipEntry, 'dataOffset'>[] {
  const entries: Omit<ZipEntry, 'dataOffset'>[] = [];
  let at = 0;
  for (let i = 0; i < count; i += 1) {
    if (at + 46 > directory.length || directory.readUInt32LE(at) !== CENTRAL_HEADER)
      throw notZip('its zip directory is damaged');
    const nameLength = directory.readUInt16LE(at + 28);
    const extraLength = directory.readUInt16LE(at + 30);
    const commentLength = directory.readUInt16LE(at + 32);
    let uncompressedSize = directory.readUInt32LE(at + 24);
    let compressedSize = directory.readUInt32LE(at + 20);
    let localHeaderOffset = directory.readUInt32LE(at + 42);
    const wanted = {
      uncompressed: uncompressedSize === 0xffffffff,
      compressed: compressedSize === 0xffffffff,
      offset: localHeaderOffset === 0xffffffff,
    };
    if (wanted.uncompressed || wanted.compressed || wanted.offset) {
      const values = zip64Values(
        directory.subarray(at + 46 + nameLength, at + 46 + nameLength + extraLength),
        wanted,
      );
      if (wanted.uncompressed) uncompressedSize = Number(values.shift() ?? Number.MAX_SAFE_INTEGER);
      if (wanted.compressed) compressedSize = Number(values.shift() ?? Number.MAX_SAFE_INTEGER);
      if (wanted.offset) localHeaderOffset = Number(values.shift() ?? Number.MAX_SAFE_INTEGER);
    }
    entries.push({
      name: directory.toString('utf8', at + 46, at + 46 + nameLength),
      method: directory.readUInt16LE(at + 10),
      compressedSize,
      uncompressedSize,
      localHeaderOffset,
    });
    at += 46 + nameLength + extraLength + commentLength;
  }
  return entries;
}

/**
 * Reads the zip directory and refuses what could be a zip bomb or a disguised archive: more entries or
 * declared bytes than the limits allow, methods other than stored/deflate, and bytes between entries
 * that the directory does not account for (a streaming unzipper would inflate such hidden entries).
 */
export async function inspectZip(file: SpooledFile, limits: ZipLimits): Promise<ZipEntry[]> {
  const { size } = file;
  if (size < 22) throw notZip('it is too short to be a zip archive');
  const directory = await centralDirectory(file, size);
  if (directory.entries > limits.maxEntries) {
    throw new ParseError(
      'xlsx-too-large',
      `the workbook has ${directory.entries} parts, over the limit of ${limits.maxEntries}; it may be a zip bomb`,
    );
  }
  const parsed = parseEntries(await readAt(file, directory.offset, directory.size), directory.entries);
  const declared = parsed.reduce((sum, entry) => sum + entry.uncompressedSize, 0);
  if (declared > limits.maxUncompressedBytes) {
    throw new ParseError(
      'xlsx-too-large',
      `the workbook unpacks to ${megabytes(declared)}, over the ${megabytes(limits.maxUncompressedBytes)} limit; it may be a zip bomb`,
    );
  }
  const entries: ZipEntry[] = [];
  let expectedNext = 0;
  for (const entry of [...parsed].sort((a, b) => a.localHeaderOffset - b.localHeaderOffset)) {
    if (entry.method !== 0 && entry.method !== 8)
      throw notZip(`part ${entry.name} uses an unsupported compression method (${entry.method})`);
    if (
      entry.localHeaderOffset < expectedNext ||
      entry.localHeaderOffset > expectedNext + (entries.length ? MAX_DESCRIPTOR : 0)
    ) {
      throw notZip('it holds data its zip directory does not list');
    }
    const local = await readAt(file, entry.localHeaderOffset, 30);
    if (local.readUInt32LE(0) !== LOCAL_HEADER || local.readUInt16LE(8) !== entry.method)
      throw notZip(`part ${entry.name} does not match the zip directory`);
    const dataOffset = entry.localHeaderOffset + 30 + local.readUInt16LE(26) + local.readUInt16LE(28);
    expectedNext = dataOffset + entry.compressedSize;
    entries.push({ ...entry, dataOffset });
  }
  if (
    directory.offset < expectedNext ||
    directory.offset > expectedNext + (entries.length ? MAX_DESCRIPTOR : 0)
  ) {
    throw notZip('it holds data its zip directory does not list');
  }
  return entries;
}

/**
 * The entry's unpacked bytes, read from the file at the entry's offset (a stream of its own: entries
 * can be read in any order, and side by side).
 */
export function openZipEntry(file: SpooledFile, entry: ZipEntry): Readable {
  if (entry.compressedSize === 0) return Readable.from([]);
  const raw = file.stream(entry.dataOffset, entry.dataOffset + entry.compressedSize - 1);
  const unpack: Transform = entry.method === 8 ? createInflateRaw() : new PassThrough();
  return pipeline(raw, unpack, () => undefined);
}

/**
 * Inflates every entry and counts the bytes, refusing an entry that unpacks to more than it declares
 * or a total over the limit: the directory's sizes are only claims. Output is discarded as it comes.
 */
export async function verifyInflatedSizes(
  file: SpooledFile,
  entries: readonly ZipEntry[],
  limits: ZipLimits,
): Promise<number> {
  let total = 0;
  for (const entry of entries) {
    if (entry.compressedSize === 0) continue;
    const output = openZipEntry(file, entry);
    let inflated = 0;
    try {
      for await (const chunk of output) {
        inflated += (chunk as Buffer).length;
        total += (chunk as Buffer).length;
        if (inflated > entry.uncompressedSize) {
          throw new ParseError(
            'xlsx-too-large',
            `part ${entry.name} unpacks to more than the ${entry.uncompressedSize} bytes it declares; the file may be a zip bomb`,
          );
        }
        if (total > limits.maxUncompressedBytes) {
          throw new ParseError(
            'xlsx-too-large',
            `the workbook unpacks to more than ${megabytes(limits.maxUncompressedBytes)}; it may be a zip bomb`,
          );
        }
      }
    } catch (error) {
      if (error instanceof ParseError) throw error;
      throw notZip(`part ${entry.name} is damaged (${(error as Error).message})`);
    } finally {
      output.destroy();
    }
  }
  return total;
}
