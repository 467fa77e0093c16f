/**
 * Deterministic benchmark trees, built once and cached (a marker file records the parameters):
 * - large: `mib` MiB of mixed large files (halving sizes: 1/2, 1/4, … of the total, plus a few
 *   small ones), content from a fixed PRNG so runs are comparable;
 * - small: `count` small files (0–699 bytes) in directories of 1,000, some executable.
 */
import { chmodSync, closeSync, existsSync, mkdirSync, openSync, readFileSync, rmSync, writeFileSync, writeSync } from 'node:fs';
import { join } from 'node:path';

function block(seed: number, size: number): Buffer {
  const b = Buffer.allocUnsafe(size);
  let x = seed >>> 0 || 1;
  for (let i = 0; i < size; i += 4) {
    x ^= x << 13;
    x ^= x >>> 17;
    x ^= x << 5;
    b.writeUInt32LE(x >>> 0, i);
  }
  return b;
}

function cached(dir: string, params: string, build: () => void): string {
  const marker = join(dir, '.farm-bench-params');
  if (existsSync(marker) && readFileSync(marker, 'utf8') === params) return join(dir, 'tree');
  rmSync(dir, { recursive: true, force: true });
  mkdirSync(dir, { recursive: true });
  build();
  writeFileSync(marker, params);
  return join(dir, 'tree');
}

export function largeTree(dir: string, mib: number): string {
  return cached(dir, `large:${mib}`, () => {
    const root = join(dir, 'tree');
    mkdirSync(join(root, 'lib'), { recursive: true });
    const chunk = block(42, 1 << 20);
    let left = mib * (1 << 20);
    for (let i = 0; left > 0; i++) {
      const size = left <= 1 << 20 ? left : Math.ceil(left / 2);
      const fd = openSync(join(root, i % 2 === 0 ? 'lib' : '', `blob-${i}.bin`), 'w');
      for (let off = 0; off < size; off += chunk.length) {
        chunk.writeUInt32LE(off, 0); // every MiB differs
        writeSync(fd, chunk, 0, Math.min(chunk.length, size - off));
      }
      closeSync(fd);
      left -= size;
    }
    writeFileSync(join(root, 'README'), 'large files\n');
  });
}

export function smallTree(dir: string, count: number): string {
  return cached(dir, `small:${count}`, () => {
    const root = join(dir, 'tree');
    const data = block(7, 1024);
    for (let i = 0; i < count; i++) {
      const d = join(root, `d${String(Math.floor(i / 1000)).padStart(3, '0')}`);
      if (i % 1000 === 0) mkdirSync(d, { recursive: true });
      const p = join(d, `file-${i}.txt`);
      writeFileSync(p, data.subarray(0, i % 700));
      if (i % 17 === 0) chmodSync(p, 0o755);
    }
  });
}
