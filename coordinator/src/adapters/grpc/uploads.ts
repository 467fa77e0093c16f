/**
 * An AddPath client stream as (header, NAR bytes): the first message must be the header, every
 * later one NAR bytes; a missing or repeated header is INVALID_ARGUMENT. The bytes are pulled
 * lazily, so the store hashes and writes while they arrive and backpressure reaches the client.
 */
import { FarmError } from '@farm/common';
import type { AddPathChunk__Output, AddPathHeader__Output } from '@farm/proto';

export async function narChunksOf(call: AsyncIterable<AddPathChunk__Output>): Promise<{ header: AddPathHeader__Output; nar: AsyncIterable<Uint8Array> }> {
  const it = call[Symbol.asyncIterator]();
  const first = await it.next();
  if (first.done === true) throw new FarmError('INVALID_ARGUMENT', 'empty upload: AddPath must start with a header');
  const head = first.value;
  if (head.part !== 'header' || head.header === null || head.header === undefined) {
    throw new FarmError('INVALID_ARGUMENT', 'AddPath must start with a header, not NAR bytes');
  }
  async function* nar(): AsyncGenerator<Uint8Array> {
    for (;;) {
      const r = await it.next();
      if (r.done === true) return;
      if (r.value.part === 'header') throw new FarmError('INVALID_ARGUMENT', 'AddPath carries one header, then only NAR bytes');
      const bytes = r.value.nar;
      if (bytes !== undefined && bytes.length > 0) yield bytes;
    }
  }
  return { header: head.header, nar: nar() };
}
