/**
 * The one mapping table between farm error codes and gRPC status codes (numbers from
 * grpc/include/grpc/impl/codegen/status.h, stable by the gRPC spec), so common stays free of the
 * gRPC library. Servers send the farm code in the `farm-error-code` trailing metadata key;
 * clients rebuild the FarmError from it (falling back to the status code).
 */
import { FarmError, type FarmErrorCode } from './errors.js';

export const GRPC_STATUS = {
  OK: 0,
  CANCELLED: 1,
  UNKNOWN: 2,
  INVALID_ARGUMENT: 3,
  DEADLINE_EXCEEDED: 4,
  NOT_FOUND: 5,
  ALREADY_EXISTS: 6,
  PERMISSION_DENIED: 7,
  RESOURCE_EXHAUSTED: 8,
  FAILED_PRECONDITION: 9,
  ABORTED: 10,
  OUT_OF_RANGE: 11,
  UNIMPLEMENTED: 12,
  INTERNAL: 13,
  UNAVAILABLE: 14,
  DATA_LOSS: 15,
  UNAUTHENTICATED: 16,
} as const;

/** The metadata key carrying the farm error code (and `farm-error-<field>` for details). */
export const FARM_ERROR_METADATA_KEY = 'farm-error-code';

const TO_GRPC: Readonly<Record<FarmErrorCode, number>> = {
  INVALID_ARGUMENT: GRPC_STATUS.INVALID_ARGUMENT,
  INVALID_CONFIG: GRPC_STATUS.INVALID_ARGUMENT,
  NOT_FOUND: GRPC_STATUS.NOT_FOUND,
  ALREADY_EXISTS: GRPC_STATUS.ALREADY_EXISTS,
  FAILED_PRECONDITION: GRPC_STATUS.FAILED_PRECONDITION,
  UNAVAILABLE: GRPC_STATUS.UNAVAILABLE,
  INTERNAL: GRPC_STATUS.INTERNAL,
};

export function grpcStatusOf(code: FarmErrorCode): number {
  return TO_GRPC[code];
}

/** The farm code for a gRPC status (used when the server sent no farm-error-code). */
export function farmCodeOfGrpcStatus(status: number): FarmErrorCode {
  switch (status) {
    case GRPC_STATUS.INVALID_ARGUMENT:
    case GRPC_STATUS.OUT_OF_RANGE:
      return 'INVALID_ARGUMENT';
    case GRPC_STATUS.NOT_FOUND:
      return 'NOT_FOUND';
    case GRPC_STATUS.ALREADY_EXISTS:
      return 'ALREADY_EXISTS';
    case GRPC_STATUS.FAILED_PRECONDITION:
    case GRPC_STATUS.ABORTED:
      return 'FAILED_PRECONDITION';
    case GRPC_STATUS.UNAVAILABLE:
    case GRPC_STATUS.DEADLINE_EXCEEDED:
    case GRPC_STATUS.CANCELLED:
      return 'UNAVAILABLE';
    default:
      return 'INTERNAL';
  }
}

/** A minimal view of a gRPC ServiceError (so common need not import @grpc/grpc-js). */
export interface GrpcErrorLike {
  readonly code?: number;
  readonly details?: string;
  readonly message?: string;
  readonly metadata?: { get(key: string): unknown[] };
}

/** Rebuilds the FarmError a server sent; anything else becomes a FarmError by status. */
export function farmErrorFromGrpc(e: GrpcErrorLike): FarmError {
  const sent = e.metadata?.get(FARM_ERROR_METADATA_KEY)[0];
  const code = typeof sent === 'string' && isFarmCode(sent) ? sent : farmCodeOfGrpcStatus(e.code ?? GRPC_STATUS.UNKNOWN);
  const message = e.details !== undefined && e.details !== '' ? e.details : (e.message ?? 'unknown gRPC error');
  return new FarmError(code, message, {}, { cause: e });
}

function isFarmCode(s: string): s is FarmErrorCode {
  return s in TO_GRPC;
}
