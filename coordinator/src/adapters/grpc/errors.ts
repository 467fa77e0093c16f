/**
 * The one mapping from whatever a handler threw to a gRPC status: a FarmError keeps its code
 * (grpcStatusOf) and sends it in the `farm-error-code` trailing metadata so clients rebuild it
 * with farmErrorFromGrpc; the nix library's format errors are the client's fault
 * (INVALID_ARGUMENT); anything else is a bug — INTERNAL, and logged with its stack.
 */
import { Metadata, type ServiceError } from '@grpc/grpc-js';
import { FARM_ERROR_METADATA_KEY, FarmError, grpcStatusOf, type Logger } from '@farm/common';
import { isNixFormatError } from '@farm/nix';

export function toServiceError(e: unknown, logger: Logger, rpc: string): Partial<ServiceError> {
  const farm = e instanceof FarmError ? e : isNixFormatError(e) ? new FarmError('INVALID_ARGUMENT', e.message) : undefined;
  if (farm === undefined) {
    logger.error({ err: e, rpc }, 'internal error in a gRPC handler');
  } else if (farm.code === 'INTERNAL') {
    logger.error({ err: farm, rpc }, 'internal error in a gRPC handler');
  } else {
    logger.debug({ rpc, code: farm.code, message: farm.message }, 'gRPC call refused');
  }
  const code = farm?.code ?? 'INTERNAL';
  const metadata = new Metadata();
  metadata.set(FARM_ERROR_METADATA_KEY, code);
  for (const [k, v] of Object.entries(farm?.details ?? {})) {
    const key = `farm-error-${k.toLowerCase().replace(/[^a-z0-9_.-]/g, '-')}`;
    if (key !== FARM_ERROR_METADATA_KEY && !key.endsWith('-bin')) metadata.set(key, v.replace(/[^\x20-\x7e]/g, '?'));
  }
  const details = farm?.message ?? `internal error: ${e instanceof Error ? e.message : String(e)}`;
  return { name: 'FarmError', message: details, code: grpcStatusOf(code), details, metadata };
}
