/**
 * The malformed-NAR corpus: every input here must be rejected with the right typed error code
 * (and, where it matters, the right byte offset), without hanging, without allocating what an
 * attacker declared, and — for the unpacker — without writing anything outside the target and
 * without leaving the target behind.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, mkdirSync, readdirSync, symlinkSync } from 'node:fs';
import { join } from 'node:path';
import { StreamSource, isNixFormatError, parseNarBytes, readNar, unpackNar, type NixErrorCode } from '../src/index.js';
import { encodeTokens, makeTempDir, prng, removeDir } from './nar-helpers.js';
import { readVectorJson } from './vectors.js';

const vectors = readVectorJson<{ nars: { name: string; narBase64: string }[] }>('nar.json').nars;
const narOf = (name: string): Buffer => Buffer.from(vectors.find((v) => v.name === name)!.narBase64, 'base64');
const TYPED: readonly NixErrorCode[] = ['BAD_NAR', 'NAR_TRUNCATED', 'NAR_TOO_LARGE', 'NAR_UNSAFE_PATH'];

async function rejects(bytes: Uint8Array, code: NixErrorCode, offset?: number, limits = {}): Promise<void> {
  await assert.rejects(parseNarBytes(bytes, {}, { limits }), (e: unknown) => {
    assert.ok(isNixFormatError(e), `not a NixFormatError: ${String(e)}`);
    assert.equal(e.code, code, e.message);
    if (offset !== undefined) assert.equal(e.offset, offset, e.message);
    assert.match(e.message, /at byte \d+/);
    return true;
  });
}

/** Unpacks into a fresh target next to a sentinel dir; checks the error, the cleanup and the sentinel. */
async function unpackRejects(bytes: Uint8Array, code: NixErrorCode): Promise<void> {
  const tmp = makeTempDir('nar-bad-unpack');
  try {
    const outside = join(tmp, 'outside');
    mkdirSync(outside);
    const dest = join(tmp, 'dest');
    await assert.rejects(unpackNar(bytes, dest), (e: unknown) => isNixFormatError(e, code) || assert.fail(`expected ${code}, got ${String(e)}`));
    assert.equal(existsSync(dest), false, 'target left behind');
    assert.deepEqual(readdirSync(outside), [], 'something was written outside the target');
    assert.deepEqual(readdirSync(tmp).sort(), ['outside'], 'something was written next to the target');
  } finally {
    removeDir(tmp);
  }
}

const file = (name: string, contents = 'x'): (string | Uint8Array)[] => ['entry', '(', 'name', name, 'node', '(', 'type', 'regular', 'contents', contents, ')', ')'];
const link = (name: string, target: string): string[] => ['entry', '(', 'name', name, 'node', '(', 'type', 'symlink', 'target', target, ')', ')'];
const dirNar = (...entries: (string | Uint8Array)[][]) => encodeTokens(['nix-archive-1', '(', 'type', 'directory', ...entries.flat(), ')']);

test('every truncation prefix of several vectors is NAR_TRUNCATED at the end of the input', async () => {
  for (const name of ['nested-tree', 'executable-file', 'contents-len-9', 'symlink', 'empty-directory']) {
    const nar = narOf(name);
    for (let n = 0; n < nar.length; n++) await rejects(nar.subarray(0, n), 'NAR_TRUNCATED', n);
  }
  for (const n of [1, 100, 1000, 2000]) await unpackRejects(narOf('nested-tree').subarray(0, n), 'NAR_TRUNCATED');
});

test('single bit flips in NARs (every byte of two vectors, every third of the nested tree) give a typed error or a different valid NAR, never a crash', async () => {
  const rand = prng(99);
  for (const [name, step] of [['executable-file', 1], ['symlink', 1], ['nested-tree', 3]] as const) {
   const nar = narOf(name);
   for (let i = 0; i < nar.length; i += step) {
    const bad = Buffer.from(nar);
    bad[i]! ^= 1 << Math.floor(rand() * 8);
    try {
      await parseNarBytes(bad);
    } catch (e) {
      assert.ok(isNixFormatError(e) && TYPED.includes(e.code), `${name} byte ${i}: ${String(e)}`);
    }
   }
  }
});

test('non-zero padding is BAD_NAR at the padding byte', async () => {
  const nar = Buffer.from(narOf('contents-len-9'));
  // Layout: magic(24) "("(16) "type"(16) "regular"(16) "contents"(16) len(8) 9 bytes + 7 padding.
  const padAt = 24 + 16 + 16 + 16 + 16 + 8 + 9;
  for (let k = 0; k < 7; k++) {
    const bad = Buffer.from(nar);
    bad[padAt + k] = 0x20;
    await rejects(bad, 'BAD_NAR', padAt + k);
  }
  const badToken = Buffer.from(nar);
  badToken[24 + 8 + 1] = 1; // padding of "("
  await rejects(badToken, 'BAD_NAR', 24 + 8 + 1);
});

test('unsorted and duplicate entry names are BAD_NAR', async () => {
  await rejects(dirNar(file('b'), file('a')), 'BAD_NAR');
  await rejects(dirNar(file('a'), file('a')), 'BAD_NAR');
  await rejects(dirNar(file('a.b'), file('a-b')), 'BAD_NAR'); // '-' (0x2d) sorts before '.' (0x2e)
  await rejects(dirNar(file('a'), file('B')), 'BAD_NAR'); // bytewise: 'B' < 'a'
  await unpackRejects(dirNar(link('a', '/'), file('a')), 'BAD_NAR');
});

test('unsafe names are NAR_UNSAFE_PATH, for the reader and the unpacker', async () => {
  const names: (string | Uint8Array)[] = ['', '.', '..', 'a/b', '/etc', '../outside', 'nul\0byte', Buffer.from([0x2e, 0x2e])];
  for (const n of names) {
    const nar = dirNar(file(n as string));
    await rejects(nar, 'NAR_UNSAFE_PATH', 24 + 16 + 16 + 24 + 16 + 16 + 16);
    await unpackRejects(nar, 'NAR_UNSAFE_PATH');
  }
});

test('symlink escape attempts cannot write outside the target', async () => {
  // A symlink to the outside followed by a directory of the same name is a duplicate entry.
  const viaDup = dirNar(link('a', '../outside'), ['entry', '(', 'name', 'a', 'node', '(', 'type', 'directory', ...file('x'), ')', ')']);
  await unpackRejects(viaDup, 'BAD_NAR');
  // Reaching through a symlink needs a name with '/'.
  await unpackRejects(dirNar(link('l', '../outside'), file('l/x')), 'NAR_UNSAFE_PATH');
  // A valid NAR with symlinks pointing outside is restored as symlinks, never followed.
  const tmp = makeTempDir('nar-escape');
  try {
    const outside = join(tmp, 'outside');
    mkdirSync(outside);
    await unpackNar(dirNar(link('a', '../outside'), link('b', '/etc'), file('c')), join(tmp, 'dest'));
    assert.deepEqual(readdirSync(outside), []);
    assert.deepEqual(readdirSync(join(tmp, 'dest')).sort(), ['a', 'b', 'c']);
    // A destination that already exists (here: a symlink to the outside) is refused and left alone.
    symlinkSync(outside, join(tmp, 'dest2'));
    await assert.rejects(unpackNar(narOf('regular-file'), join(tmp, 'dest2')), (e: unknown) => isNixFormatError(e, 'IO_ERROR'));
    assert.deepEqual(readdirSync(outside), []);
    assert.ok(existsSync(join(tmp, 'dest2')));
  } finally {
    removeDir(tmp);
  }
});

test('huge declared lengths fail fast without allocating', async () => {
  const head = encodeTokens(['nix-archive-1', '(', 'type', 'regular', 'contents']);
  const len = (n: bigint) => {
    const b = Buffer.alloc(8);
    b.writeBigUInt64LE(n);
    return b;
  };
  for (const n of [1n << 63n, (1n << 64n) - 1n, 1n << 53n]) await rejects(Buffer.concat([head, len(n)]), 'NAR_TOO_LARGE', head.length);
  // 2^40 is a legal size by default: streaming it finds the truncation instead of allocating 1 TiB.
  await rejects(Buffer.concat([head, len(1n << 40n), Buffer.alloc(100)]), 'NAR_TRUNCATED');
  await rejects(Buffer.concat([head, len(1n << 40n)]), 'NAR_TOO_LARGE', head.length, { maxFileSize: 1 << 20 });
  await rejects(Buffer.concat([head, len(1000n), Buffer.alloc(1000)]), 'NAR_TOO_LARGE', undefined, { maxNarSize: 512 });
  // Names, targets and keywords.
  const dirHead = encodeTokens(['nix-archive-1', '(', 'type', 'directory', 'entry', '(', 'name']);
  for (const n of [1n << 63n, 1n << 40n, 4097n]) await rejects(Buffer.concat([dirHead, len(n)]), 'NAR_TOO_LARGE', dirHead.length);
  const linkHead = encodeTokens(['nix-archive-1', '(', 'type', 'symlink', 'target']);
  await rejects(Buffer.concat([linkHead, len(1n << 40n)]), 'NAR_TOO_LARGE', linkHead.length);
  // Where a keyword is expected (more bytes follow, so this is not a truncation):
  await rejects(Buffer.concat([len(1n << 63n), Buffer.alloc(64)]), 'BAD_NAR', 0);
  await rejects(Buffer.concat([encodeTokens(['nix-archive-1']), len(1n << 40n), Buffer.alloc(64)]), 'BAD_NAR', 24);
  await rejects(Buffer.concat([encodeTokens(['nix-archive-1', '(', 'type']), len(1n << 63n), Buffer.alloc(64)]), 'BAD_NAR', 56);
});

function deepNar(depth: number): Buffer {
  const open = encodeTokens(['entry', '(', 'name', 'd', 'node', '(', 'type', 'directory']);
  const close = encodeTokens([')', ')']);
  return Buffer.concat([
    encodeTokens(['nix-archive-1', '(', 'type', 'directory']),
    Buffer.concat(Array.from({ length: depth }, () => open)),
    Buffer.concat(Array.from({ length: depth }, () => close)),
    encodeTokens([')']),
  ]);
}

test('100,000-deep nesting: rejected by the depth limit, parsed without stack overflow when allowed', async () => {
  const depth = 100_000;
  const nar = deepNar(depth);
  await rejects(nar, 'NAR_TOO_LARGE');
  let maxSeen = 0;
  const r = await parseNarBytes(nar, { directory: (d) => void (maxSeen = Math.max(maxSeen, d)) }, { limits: { maxDepth: depth + 1 } });
  assert.equal(r.narSize, nar.length);
  assert.equal(maxSeen, depth);
});

test('unpacking a NAR nested deeper than the filesystem allows fails cleanly and removes everything', async () => {
  // ENAMETOOLONG arrives near 2,000 levels, before the depth limit; the directories created by
  // then are removed again (iteratively: a recursive rm would overflow the stack).
  await unpackRejects(deepNar(3000), 'IO_ERROR');
});

test('wrong magic, unknown tokens, bad markers and non-canonical field order are BAD_NAR', async () => {
  await rejects(encodeTokens(['nix-archive-2', '(', 'type', 'directory', ')']), 'BAD_NAR', 0);
  await rejects(encodeTokens(['nix-archive-1', '(', 'type', 'fifo', ')']), 'BAD_NAR', 56);
  await rejects(encodeTokens(['nix-archive-1', '(', 'kind', 'directory', ')']), 'BAD_NAR', 40);
  await rejects(encodeTokens(['nix-archive-1', '(', 'type', 'regular', 'executable', 'yes', 'contents', '', ')']), 'BAD_NAR', 96);
  await rejects(encodeTokens(['nix-archive-1', '(', 'type', 'regular', 'contents', '', 'executable', '', ')']), 'BAD_NAR');
  await rejects(encodeTokens(['nix-archive-1', '(', 'type', 'regular', ')']), 'BAD_NAR');
  await rejects(encodeTokens(['nix-archive-1', '(', 'type', 'symlink', 'target', '', ')']), 'BAD_NAR');
  await rejects(encodeTokens(['nix-archive-1', '(', 'type', 'directory', 'entry', '(', 'node', 'x', ')']), 'BAD_NAR');
  await unpackRejects(encodeTokens(['nix-archive-1', '(', 'type', 'directory', ...file('a'), 'bogus']), 'BAD_NAR');
});

test('trailing bytes are BAD_NAR where the input must end, and left alone in a stream', async () => {
  const nar = narOf('regular-file');
  await rejects(Buffer.concat([nar, Buffer.from([0])]), 'BAD_NAR', nar.length);
  await unpackRejects(Buffer.concat([nar, encodeTokens(['junk'])]), 'BAD_NAR');
  const source = new StreamSource(Buffer.concat([nar, Buffer.from('next')]), 'WIRE_TRUNCATED');
  const r = await readNar(source);
  assert.equal(r.narSize, nar.length);
  assert.equal(source.offset, nar.length);
});

test('a truncated NAR inside a protocol stream (WIRE_TRUNCATED source) is reported as NAR_TRUNCATED', async () => {
  const nar = narOf('nested-tree');
  await assert.rejects(readNar(new StreamSource(nar.subarray(0, 500), 'WIRE_TRUNCATED')), (e: unknown) => isNixFormatError(e, 'NAR_TRUNCATED') && e.offset === 500);
});
