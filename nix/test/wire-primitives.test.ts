/**
 * Wire primitives (spec §1): exact encodings, limits checked before allocation, padding, 32-bit
 * readInt, bytewise set order, framed streams, and the NAR extent walker against nar.json.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import {
  FramedSource,
  NixFormatError,
  StreamSource,
  WireReader,
  WireWriter,
  copyNarExtent,
  isNixFormatError,
  readFramedBytes,
  readFrames,
  readNarBytes,
  concatBytes,
} from '../src/index.js';
import { readVectorJson } from './vectors.js';

const reader = (bytes: Uint8Array | number[]): WireReader => new WireReader(new StreamSource(bytes instanceof Uint8Array ? bytes : new Uint8Array(bytes)));
const u64le = (v: bigint): Uint8Array => {
  const b = new Uint8Array(8);
  new DataView(b.buffer).setBigUint64(0, v, true);
  return b;
};
const hexOf = (w: WireWriter): string => Buffer.from(w.toBytes()).toString('hex');

async function rejects(p: Promise<unknown>, code: string, offset: number | undefined, message?: RegExp): Promise<NixFormatError> {
  try {
    await p;
  } catch (e) {
    assert.ok(isNixFormatError(e), `typed error, got ${String(e)}`);
    assert.equal(e.code, code, e.message);
    if (offset !== undefined) assert.equal(e.offset, offset, e.message);
    if (message !== undefined) assert.match(e.message, message);
    return e;
  }
  assert.fail('expected a rejection');
}

test('strings are length-prefixed and zero padded to 8 bytes (spec example "nix-archive-1")', () => {
  assert.equal(hexOf(new WireWriter().string('nix-archive-1')), '0d00000000000000' + Buffer.from('nix-archive-1').toString('hex') + '000000');
  assert.equal(hexOf(new WireWriter().string('')), '0000000000000000');
  assert.equal(hexOf(new WireWriter().string('12345678')), '0800000000000000' + Buffer.from('12345678').toString('hex'));
});

test('u64 accepts number and bigint up to 2^64-1 and rejects anything else with a typed error', async () => {
  assert.equal(hexOf(new WireWriter().u64(0x390c9deb).u64(2n ** 64n - 1n).bool(true)), 'eb9d0c3900000000ffffffffffffffff0100000000000000');
  for (const bad of [-1, 2 ** 53, 1.5, -1n, 2n ** 64n]) assert.throws(() => new WireWriter().u64(bad), (e: unknown) => isNixFormatError(e, 'BAD_WIRE'));
  assert.equal(await reader(u64le(2n ** 64n - 1n)).readU64(), 2n ** 64n - 1n);
});

test('sets are written sorted by UTF-8 bytes and deduplicated; lists keep their order', async () => {
  const names = ['b.txt', 'a_b', '\u{1F600}', 'a.b', '\uFB01', 'B.txt', 'a-b', 'a.b'];
  const decoded = await reader(new WireWriter().stringSet(names).toBytes()).readStrings();
  // UTF-16 order would put U+1F600 (surrogates 0xD83D…) before U+FB01; byte order does not.
  assert.deepEqual(decoded, ['B.txt', 'a-b', 'a.b', 'a_b', 'b.txt', '\uFB01', '\u{1F600}']);
  assert.deepEqual(await reader(new WireWriter().strings(['z', 'a', 'z']).toBytes()).readStrings(), ['z', 'a', 'z']);
});

test('readInt rejects values ≥ 2^32 like Nix readInt; readNumber rejects values above 2^53', async () => {
  assert.equal(await reader(u64le(2n ** 32n - 1n)).readInt(), 2 ** 32 - 1);
  await rejects(reader(u64le(2n ** 32n)).readStrings('paths'), 'BAD_WIRE', 0, /paths/);
  const r = reader([...u64le(7n), ...u64le(2n ** 32n)]);
  await r.readU64();
  await rejects(r.readInt('count'), 'BAD_WIRE', 8, /count: value 4294967296 does not fit in 32 bits/);
  await rejects(reader(u64le(2n ** 53n + 1n)).readNumber('narSize'), 'BAD_WIRE', 0, /narSize/);
});

test('a string length of 2^63 is refused from the 8 length bytes alone (no allocation, no truncation error)', async () => {
  await rejects(reader(u64le(2n ** 63n)).readString('path'), 'BAD_WIRE', 0, /path: length 9223372036854775808 exceeds the limit/);
  await rejects(reader(u64le(100n)).readString('name', 10), 'BAD_WIRE', 0);
});

test('non-zero padding is rejected with "non-zero padding" and the offset of the padding', async () => {
  const good = new WireWriter().string('abc').toBytes();
  const bad = good.slice();
  bad[bad.length - 1] = 1;
  assert.equal(await reader(good).readString(), 'abc');
  await rejects(reader(bad).readString('token'), 'BAD_WIRE', 11, /non-zero padding/);
});

test('truncated strings and invalid UTF-8 are typed errors', async () => {
  const bytes = new WireWriter().string('hello world').toBytes();
  await rejects(reader(bytes.subarray(0, 12)).readString(), 'WIRE_TRUNCATED', undefined);
  await rejects(reader(new WireWriter().bytes(new Uint8Array([0xff, 0xfe])).toBytes()).readString('text'), 'BAD_WIRE', 0, /UTF-8/);
});

test('framed streams: ≤ 32 KiB frames, 0 terminator; FramedSource reads across frames and drains', async () => {
  const data = new Uint8Array(70000).map((_, i) => i % 251);
  const bytes = new WireWriter().framed(data).u64(42).toBytes();
  const r = reader(bytes);
  const sizes: number[] = [];
  let at = 0;
  const view = new DataView(bytes.buffer);
  for (;;) {
    const n = Number(view.getBigUint64(at, true));
    sizes.push(n);
    at += 8 + n;
    if (n === 0) break;
  }
  assert.deepEqual(sizes, [32768, 32768, 4464, 0]);
  assert.deepEqual(await readFramedBytes(r, 1 << 20), data);
  assert.equal(await r.readU64(), 42n, 'the reader stops right after the terminator');

  const r2 = reader(bytes);
  const framed = new FramedSource(r2);
  assert.deepEqual(await framed.readExactly(40000), data.subarray(0, 40000));
  assert.equal(await framed.drain(), 30000);
  assert.equal(framed.complete, true);
  assert.equal(await r2.readU64(), 42n);

  const pieces: Uint8Array[] = [];
  for await (const c of readFrames(reader(bytes))) pieces.push(c.slice());
  assert.deepEqual(concatBytes(pieces), data);
  // Coalescing: many small pieces become one frame, as Nix's buffered sink does.
  assert.deepEqual(new WireWriter().framed([new Uint8Array([1]), new Uint8Array([2, 3])]).toBytes(), new WireWriter().u64(3).raw(new Uint8Array([1, 2, 3])).u64(0).toBytes());
});

test('framed stream without terminator, oversized frames and leftover data are typed errors', async () => {
  const noEnd = new WireWriter().u64(3).raw(new Uint8Array([1, 2, 3])).toBytes();
  await rejects(readFramedBytes(reader(noEnd), 100), 'WIRE_TRUNCATED', 11);
  await rejects(new FramedSource(reader(noEnd)).readExactly(5), 'WIRE_TRUNCATED', 11);
  await rejects(readFramedBytes(reader(u64le(2n ** 63n)), 1 << 20), 'BAD_WIRE', 0);
  const extra = new WireWriter().framed(new Uint8Array(16)).toBytes();
  const f = new FramedSource(reader(extra));
  await f.readExactly(8);
  await rejects(f.expectEnd('test'), 'BAD_WIRE', undefined, /extra data/);
});

interface NarVector {
  name: string;
  narBase64: string;
  narSize: number;
  narHashBase16: string;
}

test('the NAR extent walker consumes exactly each nar.json NAR and hashes it like Nix', async () => {
  const { nars } = readVectorJson<{ nars: NarVector[] }>('nar.json');
  assert.ok(nars.length >= 8);
  for (const v of nars) {
    const nar = Buffer.from(v.narBase64, 'base64');
    const r = reader(new WireWriter().raw(nar).u64(0xabcdn).toBytes());
    const seen: Uint8Array[] = [];
    const extent = await copyNarExtent(r, (c) => seen.push(c.slice()));
    assert.equal(extent.narSize, v.narSize, v.name);
    assert.equal(extent.narHash.encode('base16'), v.narHashBase16, v.name);
    assert.deepEqual(concatBytes(seen), new Uint8Array(nar), v.name);
    assert.equal(await r.readU64(), 0xabcdn, `${v.name}: stops at the NAR's end`);
    // Every strict prefix is a truncation, never a hang or an untyped error.
    for (let cut = 0; cut < nar.length; cut += 8) await rejects(readNarBytes(reader(nar.subarray(0, cut))), 'WIRE_TRUNCATED', undefined);
  }
});

test('an embedded NAR rejects bad tokens, unsorted entries and excessive nesting', async () => {
  const w = (tokens: string[]): Uint8Array => {
    const x = new WireWriter();
    for (const t of tokens) x.string(t);
    return x.toBytes();
  };
  await rejects(readNarBytes(reader(w(['nix-archive-2']))), 'BAD_NAR', 0);
  await rejects(readNarBytes(reader(w(['nix-archive-1', '(', 'type', 'fifo']))), 'BAD_NAR', 56);
  const entry = (name: string): string[] => ['entry', '(', 'name', name, 'node', '(', 'type', 'symlink', 'target', 'x', ')', ')'];
  await rejects(readNarBytes(reader(w(['nix-archive-1', '(', 'type', 'directory', ...entry('b'), ...entry('a'), ')']))), 'BAD_NAR', undefined, /out of order/);
  await rejects(readNarBytes(reader(w(['nix-archive-1', '(', 'type', 'directory', ...entry('..'), ')']))), 'NAR_UNSAFE_PATH', undefined, /\.\./);
  const deep: string[] = ['nix-archive-1'];
  for (let i = 0; i < 10; i++) deep.push('(', 'type', 'directory', 'entry', '(', 'name', 'd', 'node');
  deep.push('(', 'type', 'directory', ')');
  await rejects(readNarBytes(reader(w(deep)), { maxDepth: 5 }), 'NAR_TOO_LARGE', undefined, /deeper than the limit of 5/);
});
