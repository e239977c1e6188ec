// The one error type of source fetching: a name for it and whether retrying can help, decided where it is thrown.

export class SourceError extends Error {
  override readonly name: string = 'SourceError';
  constructor(
    /** a stable name for the problem (HostKeyMismatch, HttpStatus, ...), the Temporal failure type */
    readonly type: string,
    message: string,
    /** true when only a person can fix it (configuration, credentials, a 4xx): retrying cannot help */
    readonly permanent: boolean,
    options?: ErrorOptions,
  ) {
    super(message, options);
  }
}
