/**
 * The NAR of a single regular file built from its contents in memory, byte-identical to
 * `nix-store --dump` of such a file: magic, `( type regular [executable ""] contents <len> <bytes>
 * <pad> )`. For small files whose bytes are already at hand (a `.drv`'s ATerm), where writing a
 * scratch file only to dump it back would cost a file create, write and read.
 */
import { SEQ, padLength } from './wire.js';

export function regularFileNar(contents: Uint8Array, executable = false): Buffer {
  const head = [SEQ.magic, SEQ.nodeRegular, ...(executable ? [SEQ.executable] : []), SEQ.contents];
  const headSize = head.reduce((n, b) => n + b.length, 0);
  const pad = padLength(contents.length);
  // Buffer.alloc zero-fills, which is the padding after the contents.
  const out = Buffer.alloc(headSize + 8 + contents.length + pad + SEQ.close.length);
  let at = 0;
  for (const b of head) {
    out.set(b, at);
    at += b.length;
  }
  out.writeUInt32LE(contents.length % 0x1_0000_0000, at);
  out.writeUInt32LE(Math.floor(contents.length / 0x1_0000_0000), at + 4);
  at += 8;
  out.set(contents, at);
  at += contents.length + pad;
  out.set(SEQ.close, at);
  return out;
}
