/**
 * How a NATS request/reply call fails (contract): an empty body with the headers
 * `farm-error-code` and `farm-error-message`. Anything that is not a FarmError is INTERNAL,
 * except a body that does not decode, which is the sender's fault (INVALID_ARGUMENT).
 */
import { FarmError, type FarmErrorCode } from '@farm/common';
import { ProtoMessageError } from '@farm/proto';
import { headers, type MsgHdrs } from '@nats-io/transport-node';

export const FARM_ERROR_CODE_HEADER = 'farm-error-code';
export const FARM_ERROR_MESSAGE_HEADER = 'farm-error-message';

/** NATS header values are one line; keep them short enough to never bloat a reply. */
const MAX_MESSAGE_CHARS = 2000;

export function farmErrorOf(e: unknown): FarmError {
  if (e instanceof FarmError) return e;
  if (e instanceof ProtoMessageError) return new FarmError('INVALID_ARGUMENT', e.message);
  return new FarmError('INTERNAL', `internal error: ${e instanceof Error ? e.message : String(e)}`, {}, { cause: e });
}

export function errorHeaders(code: FarmErrorCode, message: string): MsgHdrs {
  const h = headers();
  h.set(FARM_ERROR_CODE_HEADER, code);
  h.set(FARM_ERROR_MESSAGE_HEADER, oneLine(message));
  return h;
}

function oneLine(message: string): string {
  const flat = message.replace(/[\r\n]+/g, ' ').trim();
  return flat.length > MAX_MESSAGE_CHARS ? `${flat.slice(0, MAX_MESSAGE_CHARS)}...` : flat === '' ? '(no message)' : flat;
}
