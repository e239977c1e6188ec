// The permanent problems of a packet a person must fix (file, load map, company): never worth a retry.

export type IngestProblemKind =
  | 'UnknownPacket'
  | 'UnknownCompany'
  | 'InactiveCompany'
  | 'NoLoadMap'
  | 'InvalidLoadMap'
  | 'InvalidCompanySettings'
  | 'MissingObject'
  | 'MissingColumns'
  | 'BadFile'
  | 'NoRows'
  /** the header differs from the map's and the source holds such files (held, not failed) */
  | 'HeaderDrift'
  /** the text looks like UTF-8 read as Windows-1252 and the source holds such files (held, not failed) */
  | 'GarbledText';

/**
 * Raised by ingest code for problems no retry can fix; activities turn it into
 * ApplicationFailure.nonRetryable with the same type, so workflows never match message text.
 */
export class IngestProblem extends Error {
  override readonly name = 'IngestProblem';

  constructor(
    readonly kind: IngestProblemKind,
    message: string,
    readonly details: Record<string, unknown> = {},
  ) {
    super(message);
  }
}

/**
 * A database error a file's values cause (SQLSTATE class 22, data exception; class 54, a limit such as
 * an index row too large for an over-long key): the same rows fail the same way on every retry. The
 * message names the code and column, never the value (Postgres's own message and detail may quote it).
 */
export function problemFromDatabase(error: unknown, during: string): IngestProblem | undefined {
  const { code, column_name: column } = (error ?? {}) as { code?: unknown; column_name?: unknown };
  if (typeof code !== 'string' || !/^(22|54)[0-9A-Z]{3}$/.test(code)) return undefined;
  return new IngestProblem(
    'BadFile',
    `Postgres refused a value of the file ${during} (SQLSTATE ${code}${typeof column === 'string' ? `, column ${column}` : ''}); find the value in the file and correct it`,
    { sqlstate: code },
  );
}
