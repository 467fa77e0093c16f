/**
 * Malformed input for both protocol codecs: every truncation of real sessions, bad magics,
 * unknown ops/commands/STDERR codes, non-zero padding, 2^63 string lengths, counts ≥ 2^32,
 * framed streams without terminator or with leftover data, oversized uploads. Each must be a
 * NixFormatError with the right code and offset — never a hang, an untyped exception or a huge
 * allocation. (Serve cases live here too so the session decoders are shared.)
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import {
  NixFormatError,
  SERVE_PROTOCOL_VERSION,
  StderrCode,
  WORKER_PROTOCOL_VERSION,
  WireWriter,
  type ServeRequest,
  type WorkerRequest,
  decodeServeClientHello,
  decodeServeReply,
  decodeServeRequest,
  decodeServeServerHello,
  decodeStderr,
  decodeWorkerClientMagic,
  decodeWorkerClientSettings,
  decodeWorkerClientVersion,
  decodeWorkerRequest,
  decodeWorkerResponse,
  decodeWorkerServerHello,
  decodeWorkerServerInfo,
  isNixFormatError,
  readStderrPhase,
} from '../src/index.js';
import { b64, loadTranscript, readerOver } from './transcripts.js';

const V_SERVE = SERVE_PROTOCOL_VERSION;
const V_WORKER = WORKER_PROTOCOL_VERSION;

async function expectError(p: Promise<unknown>, code: string, offset?: number, message?: RegExp): Promise<NixFormatError> {
  try {
    await p;
  } catch (e) {
    assert.ok(isNixFormatError(e), `expected a NixFormatError, got ${String(e)}`);
    assert.equal(e.code, code, e.message);
    if (offset !== undefined) assert.equal(e.offset, offset, e.message);
    if (message !== undefined) assert.match(e.message, message);
    return e;
  }
  assert.fail('expected a rejection');
}

async function serveServerSide(bytes: Uint8Array): Promise<ServeRequest[]> {
  const r = readerOver(bytes);
  await decodeServeClientHello(r);
  const out: ServeRequest[] = [];
  for (let q = await decodeServeRequest(r, V_SERVE); q !== undefined; q = await decodeServeRequest(r, V_SERVE)) out.push(q);
  return out;
}

async function serveClientSide(bytes: Uint8Array, requests: readonly ServeRequest[]): Promise<void> {
  const r = readerOver(bytes);
  await decodeServeServerHello(r);
  for (const q of requests) await decodeServeReply(r, q, V_SERVE);
}

async function workerServerSide(bytes: Uint8Array): Promise<WorkerRequest[]> {
  const r = readerOver(bytes);
  await decodeWorkerClientMagic(r);
  await decodeWorkerClientVersion(r);
  await decodeWorkerClientSettings(r, V_WORKER);
  const out: WorkerRequest[] = [];
  for (let q = await decodeWorkerRequest(r, V_WORKER); q !== undefined; q = await decodeWorkerRequest(r, V_WORKER)) out.push(q);
  return out;
}

async function workerClientSide(bytes: Uint8Array, requests: readonly WorkerRequest[]): Promise<void> {
  const r = readerOver(bytes);
  await decodeWorkerServerHello(r);
  await decodeWorkerServerInfo(r, V_WORKER);
  await readStderrPhase(r, V_WORKER);
  for (const q of requests) await decodeWorkerResponse(r, q, V_WORKER);
}

/** Offsets at which a request stream may end cleanly: after the handshake and after each request. */
function boundaries(file: string): Set<number> {
  const t = loadTranscript(file);
  const out = new Set<number>();
  let at = 0;
  for (const ex of t.exchanges) out.add((at += ex.requestHex.length / 2));
  return out;
}

for (const [file, protocol] of [
  ['transcripts/serve-offload-1.json', 'serve'],
  ['transcripts/worker-offload-1.json', 'worker'],
] as const) {
  test(`${file}: every truncation of either stream is WIRE_TRUNCATED at the cut (or a clean end between requests)`, async () => {
    const t = loadTranscript(file);
    const c2s = b64(t.c2sBase64);
    const s2c = b64(t.s2cBase64);
    const serverSide = protocol === 'serve' ? serveServerSide : workerServerSide;
    const full = await serverSide(c2s);
    const clean = boundaries(file);
    for (let cut = 0; cut < c2s.length; cut++) {
      const prefix = c2s.subarray(0, cut);
      if (clean.has(cut)) {
        const got = await serverSide(prefix);
        assert.ok(got.length < full.length);
      } else {
        await expectError(serverSide(prefix), 'WIRE_TRUNCATED', cut);
      }
    }
    for (let cut = 0; cut < s2c.length; cut++) {
      const prefix = s2c.subarray(0, cut);
      const run = protocol === 'serve' ? serveClientSide(prefix, full as ServeRequest[]) : workerClientSide(prefix, full as WorkerRequest[]);
      await expectError(run, 'WIRE_TRUNCATED', cut);
    }
  });
}

const serveHello = (): WireWriter => new WireWriter().u64(0x390c9deb).u64(0x207);
const workerHello = (): WireWriter => new WireWriter().u64(0x6e697863).u64(0x122).u64(0).u64(0);

test('bad magics and unsupported versions', async () => {
  await expectError(decodeServeClientHello(readerOver(new WireWriter().u64(0x390c9dec).u64(0x207).toBytes())), 'BAD_WIRE', 0, /bad magic/);
  await expectError(decodeServeServerHello(readerOver(new WireWriter().u64(0x5452eecb).u64(0x307).toBytes())), 'UNSUPPORTED', 8);
  await expectError(decodeWorkerClientMagic(readerOver(new WireWriter().u64(0x6478696f).toBytes())), 'BAD_WIRE', 0);
  await expectError(decodeWorkerClientVersion(readerOver(new WireWriter().u64(0x109).toBytes())), 'UNSUPPORTED', 0);
  await expectError(decodeWorkerServerHello(readerOver(new WireWriter().u64(0x6478696f).u64(0x109).toBytes())), 'UNSUPPORTED', 8);
  await expectError(decodeWorkerClientVersion(readerOver(new WireWriter().u64(2n ** 40n).toBytes())), 'BAD_WIRE', 0, /32 bits/);
});

test('unknown serve command, unknown worker op, op ≥ 2^32', async () => {
  await expectError(serveServerSide(serveHello().u64(99).toBytes()), 'BAD_WIRE', 16, /unknown serve command 99/);
  await expectError(workerServerSide(workerHello().u64(99).toBytes()), 'BAD_WIRE', 32, /unknown worker op 99/);
  await expectError(workerServerSide(workerHello().u64(2n ** 32n + 1n).toBytes()), 'BAD_WIRE', 32, /32 bits/);
});

test('unknown STDERR code and bad logger field type', async () => {
  await expectError(decodeStderr(readerOver(new WireWriter().u64(0x12345678).toBytes()), V_WORKER), 'BAD_WIRE', 0, /unknown stderr message code 0x12345678/);
  const badField = new WireWriter().u64(StderrCode.Result).u64(1).u64(101).u64(1).u64(7).toBytes();
  await expectError(decodeStderr(readerOver(badField), V_WORKER), 'BAD_WIRE', 32, /logger field type 7/);
  const endless = new WireWriter();
  for (let i = 0; i < 5; i++) endless.u64(StderrCode.Next).string('log\n');
  await expectError(readStderrPhase(readerOver(endless.toBytes()), V_WORKER, 3), 'BAD_WIRE', undefined, /more than 3/);
});

test('non-zero padding inside a request names the padding offset', async () => {
  // IsValidPath "/nix/store/x" (12 bytes, 4 padding bytes at offset 32+8+8+12 = 60).
  const bytes = workerHello().u64(1).string('/nix/store/x').toBytes();
  bytes[63] = 0x20;
  await expectError(workerServerSide(bytes), 'BAD_WIRE', 60, /non-zero padding/);
});

test('2^63 string lengths and ≥ 2^32 counts are refused before reading further', async () => {
  await expectError(workerServerSide(workerHello().u64(1).u64(2n ** 63n).toBytes()), 'BAD_WIRE', 40, /length 9223372036854775808 exceeds/);
  await expectError(workerServerSide(workerHello().u64(31).u64(2n ** 32n).toBytes()), 'BAD_WIRE', 40, /32 bits/);
  await expectError(serveServerSide(serveHello().u64(2).u64(2n ** 63n).toBytes()), 'BAD_WIRE', 24);
  // A reply claiming 2^40 paths fails on the count, not after trying to read them.
  await expectError(decodeServeReply(readerOver(new WireWriter().u64(2n ** 40n).toBytes()), { cmd: 'QueryClosure', includeOutputs: false, paths: [] }, V_SERVE), 'BAD_WIRE', 0);
});

test('serve AddToStoreNar: narSize 0 or above the limit is refused before the NAR is read', async () => {
  const req = (narSize: bigint): Uint8Array =>
    new WireWriter().u64(0x390c9deb).u64(0x207).u64(9).string('/nix/store/p').string('').string('h').u64(0).u64(0).u64(narSize).toBytes();
  await expectError(serveServerSide(req(0n)), 'BAD_WIRE', 88, /narSize must be > 0/);
  await expectError(serveServerSide(req(2n ** 50n)), 'BAD_WIRE', 88, /exceeds the limit/);
});

test('worker uploads: framed stream without terminator, oversized frame, leftover data in AddMultipleToStore', async () => {
  const addToStore = (): WireWriter => workerHello().u64(7).string('name').string('text:sha256').u64(0).u64(0);
  const noEnd = addToStore().u64(5).raw(new Uint8Array(5)).toBytes();
  await expectError(workerServerSide(noEnd), 'WIRE_TRUNCATED', noEnd.length);
  const huge = addToStore().u64(2n ** 62n).toBytes();
  await expectError(workerServerSide(huge), 'BAD_WIRE', huge.length - 8, /frame length/);
  const extra = workerHello().u64(44).u64(0).u64(0).framed(new WireWriter().u64(0).u64(7).toBytes()).toBytes();
  await expectError(workerServerSide(extra), 'BAD_WIRE', undefined, /AddMultipleToStore: unexpected extra data/);
  const truncatedInner = workerHello().u64(44).u64(0).u64(0).framed(new WireWriter().u64(1).string('/nix/store/p').toBytes()).toBytes();
  await expectError(workerServerSide(truncatedInner), 'WIRE_TRUNCATED');
});

test('a NAR inside NarFromPath with a bad token is BAD_NAR, not a hang', async () => {
  const bytes = new WireWriter().u64(StderrCode.Last).string('nix-archive-1').string('(').string('type').string('socket').toBytes();
  const r = readerOver(bytes);
  await expectError(decodeWorkerResponse(r, { op: 'NarFromPath', path: '/nix/store/p' }, V_WORKER), 'BAD_NAR', 8 + 24 + 16 + 16);
});

test('old-protocol layouts we do not implement are UNSUPPORTED, not misparsed', async () => {
  const v = 0x115; // 1.21: AddToStoreNar via STDERR_READ
  const r = readerOver(new WireWriter().u64(39).string('/nix/store/p').string('').string('h').u64(0).u64(0).u64(1).u64(0).u64(0).string('').u64(0).u64(0).toBytes());
  await expectError(decodeWorkerRequest(r, v), 'UNSUPPORTED');
  await expectError(decodeWorkerRequest(readerOver(new WireWriter().u64(7).toBytes()), 0x118), 'UNSUPPORTED');
});
