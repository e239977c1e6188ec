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
  | 'NoRows';

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
