/**
 * Shared helpers for the NAR tests: a seeded PRNG, a random file-tree generator with the
 * traps Nix's format has (byte order of names, odd names, exec bits, symlinks of every kind),
 * a reference token decoder independent of the library, and temp-dir management.
 */
import { chmodSync, mkdirSync, mkdtempSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

export { prng } from './prng.js';

export function makeTempDir(prefix: string): string {
  return mkdtempSync(join(tmpdir(), `farm-${prefix}-`));
}

export function removeDir(dir: string): void {
  rmSync(dir, { recursive: true, force: true });
}

const ODD_NAMES: readonly (string | Buffer)[] = [
  'a b',
  'ünïcödé',
  'Ωmega',
  '日本語',
  '-dash',
  '.hidden',
  '..double-dot-prefix',
  '...',
  'a.b',
  'a-b',
  'a_b',
  'A',
  'Z',
  'a',
  'z',
  '~tilde',
  'é',
  'e',
  'x'.repeat(200),
  'tab\tname',
  'new\nline',
  Buffer.from([0x6e, 0x6f, 0x6e, 0xff, 0xfe, 0x75, 0x74, 0x66]), // not UTF-8
];

/** Writes a random tree at `root` (which must not exist). Returns the number of bytes written. */
export function randomTree(root: string, rand: () => number, opts: { maxDepth: number; maxBytes: number }): number {
  let budget = opts.maxBytes;
  const pick = <T>(xs: readonly T[]): T => xs[Math.floor(rand() * xs.length)]!;
  const randomName = (i: number): Buffer => {
    const r = rand();
    if (r < 0.35) {
      const odd = pick(ODD_NAMES);
      return typeof odd === 'string' ? Buffer.from(odd) : odd;
    }
    if (r < 0.7) return Buffer.from(`f${i}${pick(['', '.txt', '.so', '-1.0', '_x', '.'])}`);
    const len = 1 + Math.floor(rand() * 12);
    const alphabet = 'abcXYZ019-_.+=@ ';
    let s = '';
    for (let k = 0; k < len; k++) s += alphabet[Math.floor(rand() * alphabet.length)];
    return Buffer.from(s);
  };
  const fileContents = (): Buffer => {
    const r = rand();
    let size: number;
    if (r < 0.2) size = 0;
    else if (r < 0.7) size = Math.floor(rand() * 40);
    else if (r < 0.95) size = Math.floor(rand() * 70_000);
    else size = Math.floor(rand() * 3_000_000);
    size = Math.max(0, Math.min(size, budget));
    budget -= size;
    const b = Buffer.alloc(size, `${size}:${Math.floor(rand() * 1e9)}|`);
    if (size > 0) b[0] = Math.floor(rand() * 256);
    return b;
  };
  const writeFile = (p: Buffer): void => {
    writeFileSync(p, fileContents());
    chmodSync(p, pick([0o644, 0o755, 0o600, 0o700, 0o444, 0o555, 0o744, 0o654]));
  };
  const writeLink = (p: Buffer): void => {
    symlinkSync(pick(['../x', '/nix/store/abc-def/bin/sh', 'dangling', 'a b', '.', '..', 'ünï/c', 'x'.repeat(300)]), p);
  };
  const fill = (dir: Buffer, depth: number): void => {
    const n = depth >= opts.maxDepth ? 0 : Math.floor(rand() * (depth === 0 ? 9 : 6));
    const used = new Set<string>();
    for (let i = 0; i < n; i++) {
      const name = randomName(i);
      if (used.has(name.toString('hex')) || name.equals(Buffer.from('.')) || name.equals(Buffer.from('..'))) continue;
      used.add(name.toString('hex'));
      const p = Buffer.concat([dir, Buffer.from('/'), name]);
      const r = rand();
      if (r < 0.3) {
        mkdirSync(p);
        fill(p, depth + 1);
      } else if (r < 0.85) writeFile(p);
      else writeLink(p);
    }
  };
  const rootBuf = Buffer.from(root);
  const r = rand();
  if (r < 0.08) writeFile(rootBuf);
  else if (r < 0.12) writeLink(rootBuf);
  else {
    mkdirSync(rootBuf);
    fill(rootBuf, 0);
  }
  return opts.maxBytes - budget;
}

export type NarToken = string | { base64: string };

/** Decodes a NAR into its wire strings exactly as vectors/tools/gen_nar.py does (no validation). */
export function decodeTokens(nar: Uint8Array): NarToken[] {
  const b = Buffer.from(nar.buffer, nar.byteOffset, nar.length);
  const out: NarToken[] = [];
  let pos = 0;
  while (pos < b.length) {
    const n = Number(b.readBigUInt64LE(pos));
    pos += 8;
    const s = b.subarray(pos, pos + n);
    pos += n + ((8 - (n % 8)) % 8);
    const text = new TextDecoder('utf-8', { fatal: true });
    try {
      out.push(text.decode(s));
    } catch {
      out.push({ base64: s.toString('base64') });
    }
  }
  return out;
}

/** Encodes tokens into NAR bytes (for hand-built malformed NARs). */
export function encodeTokens(tokens: readonly (string | Uint8Array)[]): Buffer {
  const parts: Buffer[] = [];
  for (const t of tokens) {
    const bytes = typeof t === 'string' ? Buffer.from(t) : Buffer.from(t);
    const len = Buffer.alloc(8);
    len.writeBigUInt64LE(BigInt(bytes.length));
    parts.push(len, bytes, Buffer.alloc((8 - (bytes.length % 8)) % 8));
  }
  return Buffer.concat(parts);
}

/** Splits bytes into chunks of random sizes (1..max), to exercise boundary handling. */
export function randomChunks(bytes: Uint8Array, rand: () => number, max = 64): Uint8Array[] {
  const out: Uint8Array[] = [];
  for (let pos = 0; pos < bytes.length; ) {
    const n = 1 + Math.floor(rand() * max);
    out.push(bytes.subarray(pos, pos + n));
    pos += n;
  }
  return out;
}
