/**
 * Request/reply on NATS with protobuf bodies, and the protocol's error convention: an error
 * reply has an empty body and the headers `farm-error-code` / `farm-error-message`. Transport
 * failures (no responders, timeouts, a closed connection) become FarmError UNAVAILABLE so
 * callers retry them; an error the coordinator sent keeps its code (NOT_FOUND = register again).
 */
import { FARM_ERROR_CODES, FarmError, type FarmErrorCode } from '@farm/common';
import { decodeMessage, encodeMessage } from '@farm/proto';
import type { MsgHdrs, NatsConnection } from '@nats-io/transport-node';

export const FARM_ERROR_CODE_HEADER = 'farm-error-code';
export const FARM_ERROR_MESSAGE_HEADER = 'farm-error-message';

export async function natsRequest<Reply>(
  nc: NatsConnection,
  subject: string,
  requestType: string,
  body: Record<string, unknown>,
  replyType: string,
  timeoutMs: number,
): Promise<Reply> {
  return (await natsRequestWithHeaders<Reply>(nc, subject, requestType, body, replyType, timeoutMs)).reply;
}

/** natsRequest, with the reply's headers (a WorkReply's carry the trace context of each lease). */
export async function natsRequestWithHeaders<Reply>(
  nc: NatsConnection,
  subject: string,
  requestType: string,
  body: Record<string, unknown>,
  replyType: string,
  timeoutMs: number,
): Promise<{ reply: Reply; headers: MsgHdrs | undefined }> {
  let msg;
  try {
    msg = await nc.request(subject, encodeMessage(requestType, body), { timeout: timeoutMs });
  } catch (e) {
    throw new FarmError('UNAVAILABLE', `${subject}: ${(e as Error).message}`, { subject }, { cause: e });
  }
  const code = msg.headers?.get(FARM_ERROR_CODE_HEADER) ?? '';
  if (code !== '') {
    const message = msg.headers?.get(FARM_ERROR_MESSAGE_HEADER) ?? '';
    throw new FarmError(isFarmErrorCode(code) ? code : 'INTERNAL', message === '' ? `${subject} failed with ${code}` : message, { subject });
  }
  try {
    return { reply: decodeMessage<Reply>(replyType, msg.data), headers: msg.headers };
  } catch (e) {
    throw new FarmError('INTERNAL', `${subject}: ${(e as Error).message}`, { subject }, { cause: e });
  }
}

function isFarmErrorCode(s: string): s is FarmErrorCode {
  return (FARM_ERROR_CODES as readonly string[]).includes(s);
}
