/**
 * Every failure this library reports is a NixFormatError with a stable `code`, so callers
 * (the coordinator, the CLI) can map it to a protocol error or exit status without parsing
 * messages. `offset` is the byte offset in the input where the problem was found, when the
 * input is a byte stream; `field` names the offending field for structured inputs.
 */
export type NixErrorCode =
  | 'BAD_HASH'
  | 'BAD_STORE_PATH'
  | 'BAD_DERIVATION'
  | 'DERIVATION_MISMATCH'
  | 'BAD_NAR'
  | 'NAR_TRUNCATED'
  | 'NAR_TOO_LARGE'
  | 'NAR_UNSAFE_PATH'
  | 'BAD_NARINFO'
  | 'BAD_KEY'
  | 'BAD_SIGNATURE'
  | 'BAD_MACHINES'
  | 'BAD_WIRE'
  | 'WIRE_TRUNCATED'
  | 'UNSUPPORTED'
  | 'IO_ERROR';

export interface NixErrorDetails {
  readonly offset?: number | bigint;
  readonly field?: string;
  readonly cause?: unknown;
}

export class NixFormatError extends Error {
  override readonly name = 'NixFormatError';
  readonly code: NixErrorCode;
  readonly offset: number | bigint | undefined;
  readonly field: string | undefined;
  /** The message without the location suffix, for callers that re-locate an error. */
  readonly reason: string;

  constructor(code: NixErrorCode, message: string, details: NixErrorDetails = {}) {
    const where =
      details.offset !== undefined ? ` (at byte ${details.offset})` : details.field !== undefined ? ` (in ${details.field})` : '';
    super(`${message}${where}`, details.cause !== undefined ? { cause: details.cause } : undefined);
    this.code = code;
    this.reason = message;
    this.offset = details.offset;
    this.field = details.field;
  }
}

export function isNixFormatError(e: unknown, code?: NixErrorCode): e is NixFormatError {
  return e instanceof NixFormatError && (code === undefined || e.code === code);
}
