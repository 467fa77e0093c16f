/**
 * regularFileNar builds the NAR of one regular file from memory; it must be byte-identical to
 * the NAR writer's dump of a real file with those contents (every padding case, executable or
 * not) and to the real `nix-store --dump`.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { dumpNarToBuffer, parseNarBytes, regularFileNar } from '../src/index.js';
import { makeTempDir, prng, removeDir } from './nar-helpers.js';

function randomBytes(n: number, seed: number): Buffer {
  const rand = prng(seed);
  const b = Buffer.alloc(n);
  for (let i = 0; i < n; i++) b[i] = Math.floor(rand() * 256);
  return b;
}

test('equals the dump of a real file: empty, 1, 7, 8, 9 bytes and 100 KB, executable and not', () => {
  const tmp = makeTempDir('regular-nar');
  try {
    for (const size of [0, 1, 7, 8, 9, 15, 16, 17, 100_000]) {
      const contents = randomBytes(size, size + 1);
      for (const executable of [false, true]) {
        const file = join(tmp, `f${size}${executable ? 'x' : ''}`);
        writeFileSync(file, contents, { mode: executable ? 0o755 : 0o644 });
        const ours = regularFileNar(contents, executable);
        assert.ok(ours.equals(dumpNarToBuffer(file).nar), `${size} bytes, executable ${executable}`);
      }
    }
  } finally {
    removeDir(tmp);
  }
});

test('the reader parses it back to the same contents and executable bit', async () => {
  const contents = Buffer.from('Derive([("out","/nix/store/x","","")],[],[],"x","/bin/sh",[],[])');
  for (const executable of [false, true]) {
    const seen: { executable?: boolean; size?: number } = {};
    const parts: Buffer[] = [];
    await parseNarBytes(regularFileNar(contents, executable), {
      file: (_depth, _name, x, size) => {
        seen.executable = x;
        seen.size = size;
      },
      contents: (c) => void parts.push(Buffer.from(c)),
    });
    assert.deepEqual(seen, { executable, size: contents.length });
    assert.ok(Buffer.concat(parts).equals(contents));
  }
});

test('equals the real nix-store --dump', () => {
  const tmp = makeTempDir('regular-nar-nix');
  try {
    const cases: Array<[string, Buffer, boolean]> = [
      ['plain', randomBytes(1234, 7), false],
      ['exec', Buffer.from('#!/bin/sh\necho hi\n'), true],
      ['empty', Buffer.alloc(0), false],
    ];
    for (const [name, contents, executable] of cases) {
      const file = join(tmp, name);
      writeFileSync(file, contents, { mode: executable ? 0o755 : 0o644 });
      const r = spawnSync('nix-store', ['--dump', file], { maxBuffer: 1 << 24 });
      assert.equal(r.error, undefined, `nix-store could not be run: ${String(r.error)}`);
      assert.equal(r.status, 0, `nix-store --dump failed: ${r.stderr?.toString()}`);
      assert.ok(regularFileNar(contents, executable).equals(r.stdout), name);
    }
  } finally {
    removeDir(tmp);
  }
});
