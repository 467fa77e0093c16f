/**
 * Finds which candidate store-path hash parts (32 nix32 characters) occur in a byte stream that
 * arrives in chunks, as Nix's reference scanner does when it registers a build output.
 *
 * Algorithm: one pass keeping the length of the current run of nix32 characters; at every byte
 * that ends a run of ≥ 32 such characters, the 32-byte window ending there is looked up. The
 * lookup first checks a 32-bit key made of the window's first four bytes against a map (cheap,
 * no allocation), and only then compares bytes. The last 31 bytes of a run are carried into the
 * next chunk, so matches straddling chunk boundaries are found.
 * Complexity: O(total bytes) time (each window lookup is O(1) expected plus O(32) on a key
 * hit); memory O(candidates + 31).
 */
import { NixFormatError } from '../errors.js';

const HASH_LEN = 32;
const NIX32 = '0123456789abcdfghijklmnpqrsvwxyz';
const IS_NIX32 = new Uint8Array(256);
for (const c of NIX32) IS_NIX32[c.charCodeAt(0)] = 1;

/** The 32-char hash part of a store path (`/nix/store/<hash>-name`, `<hash>-name` or `<hash>`). */
export function hashPartOf(candidate: string): string {
  const base = candidate.slice(candidate.lastIndexOf('/') + 1);
  const part = base.slice(0, HASH_LEN);
  if (part.length !== HASH_LEN || [...part].some((c) => !NIX32.includes(c)) || (base.length > HASH_LEN && base[HASH_LEN] !== '-')) {
    throw new NixFormatError('BAD_STORE_PATH', `'${candidate}' does not start with a 32-character nix32 hash part`, { field: 'candidate' });
  }
  return part;
}

interface Candidate {
  readonly bytes: Buffer;
  readonly names: string[];
  found: boolean;
}

export class ReferenceScanner {
  private readonly byKey = new Map<number, Candidate[]>();
  private readonly foundNames = new Set<string>();
  /** Up to 31 trailing nix32 bytes of the input so far (the unfinished run). */
  private carry: Buffer = Buffer.alloc(0);

  /** `candidates` are store paths or bare hash parts; `found()` reports them as given. */
  constructor(candidates: Iterable<string>) {
    const byPart = new Map<string, Candidate>();
    for (const c of candidates) {
      const part = hashPartOf(c);
      let cand = byPart.get(part);
      if (cand === undefined) {
        cand = { bytes: Buffer.from(part, 'latin1'), names: [], found: false };
        byPart.set(part, cand);
        const key = cand.bytes.readUInt32LE(0);
        const list = this.byKey.get(key);
        if (list === undefined) this.byKey.set(key, [cand]);
        else list.push(cand);
      }
      cand.names.push(c);
    }
  }

  push(chunk: Uint8Array): void {
    if (this.byKey.size === 0 || chunk.length === 0) return;
    const buf = Buffer.from(chunk.buffer, chunk.byteOffset, chunk.length);
    // Windows that start in the carry and end in this chunk: scan carry + first 31 bytes.
    if (this.carry.length > 0) {
      const head = buf.subarray(0, HASH_LEN - 1);
      this.scan(Buffer.concat([this.carry, head]), this.carry.length);
    }
    // Windows that start inside this chunk.
    const run = this.scan(buf, 0);
    // The carry is the unfinished run: it continues the old carry when the whole chunk is nix32.
    const tail = run === buf.length ? Buffer.concat([this.carry, buf]) : buf.subarray(buf.length - run);
    this.carry = Buffer.from(tail.subarray(Math.max(0, tail.length - (HASH_LEN - 1))));
  }

  /** Candidates (as passed to the constructor) whose hash part has been seen so far. */
  found(): Set<string> {
    return new Set(this.foundNames);
  }

  /** Scans `b`, looking up only windows ending at index ≥ `minEnd`; returns the final run length. */
  private scan(b: Buffer, minEnd: number): number {
    let run = 0;
    const n = b.length;
    for (let i = 0; i < n; i++) {
      if (IS_NIX32[b[i]!] === 0) {
        run = 0;
        continue;
      }
      run++;
      if (run >= HASH_LEN && i >= minEnd) this.lookup(b, i + 1 - HASH_LEN);
    }
    return run;
  }

  private lookup(b: Buffer, start: number): void {
    const list = this.byKey.get(b.readUInt32LE(start));
    if (list === undefined) return;
    for (const cand of list) {
      if (cand.found) continue;
      if (b.compare(cand.bytes, 0, HASH_LEN, start, start + HASH_LEN) === 0) {
        cand.found = true;
        for (const name of cand.names) this.foundNames.add(name);
      }
    }
  }
}

/** Convenience: scans a sequence of chunks at once. */
export function scanForReferences(chunks: Iterable<Uint8Array>, candidates: Iterable<string>): Set<string> {
  const s = new ReferenceScanner(candidates);
  for (const c of chunks) s.push(c);
  return s.found();
}
