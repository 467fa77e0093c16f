/**
 * The NAR token vocabulary (spec §3) pre-encoded as wire strings, and the small helpers the
 * writer and reader share. A token is `u64 len` (little-endian), `len` bytes, then zero padding
 * to the next multiple of 8.
 */

export const NAR_MAGIC = 'nix-archive-1';

/** Zero padding needed after `len` payload bytes. */
export function padLength(len: number): number {
  return (8 - (len % 8)) % 8;
}

/** Size on the wire of a string token with a `len`-byte payload. */
export function tokenSize(len: number): number {
  return 8 + len + padLength(len);
}

/** Encodes one string token. */
export function encodeToken(payload: Uint8Array | string): Buffer {
  const bytes = typeof payload === 'string' ? Buffer.from(payload, 'utf8') : payload;
  const out = Buffer.alloc(tokenSize(bytes.length));
  out.writeUInt32LE(bytes.length, 0);
  out.set(bytes, 8);
  return out;
}

function concatTokens(...tokens: string[]): Buffer {
  return Buffer.concat(tokens.map((t) => encodeToken(t)));
}

/** Fixed token sequences the writer emits verbatim (one memcpy each instead of one per token). */
export const SEQ = {
  magic: concatTokens(NAR_MAGIC),
  nodeRegular: concatTokens('(', 'type', 'regular'),
  executable: concatTokens('executable', ''),
  contents: concatTokens('contents'),
  nodeSymlinkTarget: concatTokens('(', 'type', 'symlink', 'target'),
  nodeDirectory: concatTokens('(', 'type', 'directory'),
  entryName: concatTokens('entry', '(', 'name'),
  node: concatTokens('node'),
  close: concatTokens(')'),
} as const;

/** The keywords as raw bytes, for the reader's comparisons. */
export const KW = {
  magic: Buffer.from(NAR_MAGIC),
  open: Buffer.from('('),
  close: Buffer.from(')'),
  type: Buffer.from('type'),
  regular: Buffer.from('regular'),
  symlink: Buffer.from('symlink'),
  directory: Buffer.from('directory'),
  executable: Buffer.from('executable'),
  contents: Buffer.from('contents'),
  target: Buffer.from('target'),
  entry: Buffer.from('entry'),
  name: Buffer.from('name'),
  node: Buffer.from('node'),
} as const;

/** Longest keyword (`nix-archive-1`); a longer token where a keyword is expected is rejected unread. */
export const MAX_KEYWORD_LENGTH = 16;
