/**
 * Farm errors carry a stable `code` that clients, the CLI's exit status and the gRPC mapping
 * table (later: adapters/grpc) branch on. Messages are for people; codes are for programs.
 */
export const FARM_ERROR_CODES = [
  'INVALID_ARGUMENT',
  'INVALID_CONFIG',
  'NOT_FOUND',
  'ALREADY_EXISTS',
  'FAILED_PRECONDITION',
  'UNAVAILABLE',
  'INTERNAL',
] as const;

export type FarmErrorCode = (typeof FARM_ERROR_CODES)[number];

export class FarmError extends Error {
  override readonly name = 'FarmError';
  constructor(
    readonly code: FarmErrorCode,
    message: string,
    readonly details: Readonly<Record<string, string>> = {},
    options?: { cause?: unknown },
  ) {
    super(message, options);
  }
}

export function isFarmError(e: unknown, code?: FarmErrorCode): e is FarmError {
  return e instanceof FarmError && (code === undefined || e.code === code);
}
