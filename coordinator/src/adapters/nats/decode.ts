/**
 * decodeMessage for NATS payloads. nats.js hands over plain Uint8Arrays (sometimes views into
 * a socket chunk); protobufjs then returns `bytes` fields as Uint8Array, while the message
 * conventions (and gRPC) promise Buffers. A zero-copy Buffer view of the payload makes
 * protobufjs pick its Buffer reader, so bytes fields come out as Buffers whatever the transport.
 */
import { decodeMessage } from '@farm/proto';

export function decodePayload<T>(type: string, data: Uint8Array): T {
  const bytes = Buffer.isBuffer(data) ? data : Buffer.from(data.buffer, data.byteOffset, data.byteLength);
  return decodeMessage<T>(type, bytes);
}
