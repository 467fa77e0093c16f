/**
 * The JSON listing of a NAR, byte for byte as Nix 2.8 writes `<hash>.ls` (listNar in
 * src/libstore/nar-accessor.cc through its compact JSON writer, src/libutil/json.cc):
 *   {"version":1,"root":<node>}
 *   regular:   {"type":"regular","size":N[,"executable":true],"narOffset":O}
 *   directory: {"type":"directory","entries":{"<name>":<node>,…}}   (names in byte order)
 *   symlink:   {"type":"symlink","target":"<target>"}
 * narOffset is where the file's contents start in the NAR (right after their length field).
 * Strings are escaped as Nix does: `"` `\` \n \r \t, other bytes below 0x20 as \u00XX, every
 * other byte as is (names that are not UTF-8 stay what they are).
 *
 * Streaming: the NAR is read once with the nix library's reader; the listing is yielded in
 * pieces of about 64 KiB, so memory is bounded by the directory depth, not the NAR's size.
 */
import { narEvents, StreamSource } from '@farm/nix';

const FLUSH_AT = 64 * 1024;
const HEX = '0123456789abcdef';

export async function* narListing(nar: AsyncIterable<Uint8Array>): AsyncGenerator<Buffer> {
  const source = new StreamSource(nar, 'NAR_TRUNCATED');
  let parts: Buffer[] = [];
  let pending = 0;
  const emit = (s: string | Buffer) => {
    const b = typeof s === 'string' ? Buffer.from(s, 'latin1') : s;
    parts.push(b);
    pending += b.length;
  };
  // One flag per open directory: does its next entry need a comma before it?
  const needComma: boolean[] = [];
  const key = (name: Uint8Array | null) => {
    if (name === null) return;
    if (needComma[needComma.length - 1] === true) emit(',');
    needComma[needComma.length - 1] = true;
    emit(jsonString(name));
    emit(':');
  };

  emit('{"version":1,"root":');
  const events = narEvents(source, { requireEnd: true });
  for (;;) {
    const r = await events.next();
    if (r.done === true) break;
    const e = r.value;
    switch (e.type) {
      case 'directory':
        key(e.name);
        emit('{"type":"directory","entries":{');
        needComma.push(false);
        break;
      case 'directoryEnd':
        needComma.pop();
        emit('}}');
        break;
      case 'file':
        key(e.name);
        // The reader yields this event right after the length field: the offset is the contents'.
        emit(`{"type":"regular","size":${e.size}${e.executable ? ',"executable":true' : ''},"narOffset":${source.offset}}`);
        break;
      case 'symlink':
        key(e.name);
        emit('{"type":"symlink","target":');
        emit(jsonString(e.target));
        emit('}');
        break;
      case 'contents':
      case 'fileEnd':
        break;
    }
    if (pending >= FLUSH_AT) {
      yield Buffer.concat(parts);
      parts = [];
      pending = 0;
    }
  }
  emit('}');
  yield Buffer.concat(parts);
}

/** Nix's toJSON(string) over raw bytes. */
export function jsonString(bytes: Uint8Array): Buffer {
  const out: number[] = [0x22];
  for (const c of bytes) {
    if (c === 0x22 || c === 0x5c) out.push(0x5c, c);
    else if (c === 0x0a) out.push(0x5c, 0x6e);
    else if (c === 0x0d) out.push(0x5c, 0x72);
    else if (c === 0x09) out.push(0x5c, 0x74);
    else if (c < 0x20) out.push(0x5c, 0x75, 0x30, 0x30, HEX.charCodeAt(c >> 4), HEX.charCodeAt(c & 0xf));
    else out.push(c);
  }
  out.push(0x22);
  return Buffer.from(out);
}
