/**
 * Version gates the 1.34/2.7 transcripts do not exercise: each layout must round-trip at the
 * versions around its gate, and differ in exactly the gated fields (spec §6.3, §7.2–§7.7).
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import {
  type BuildResult,
  StreamSource,
  WireReader,
  concatBytes,
  decodeServeRequest,
  decodeStderr,
  decodeWorkerClientSettings,
  decodeWorkerReply,
  decodeWorkerRequest,
  decodeWorkerServerInfo,
  encodeServeRequest,
  encodeStderr,
  encodeWorkerClientSettings,
  encodeWorkerReply,
  encodeWorkerRequest,
  encodeWorkerServerInfo,
  formatDerivedPath,
  parseDerivedPath,
  protocolVersion,
  readBuildResult,
  serveBuildResultLayout,
  workerBuildResultLayout,
  workerDerivedPathSyntax,
  workerError,
  WireWriter,
  writeBuildResult,
  DEFAULT_SERVE_BUILD_SETTINGS,
  negotiateVersion,
  formatProtocolVersion,
} from '../src/index.js';

const w = (minor: number): number => protocolVersion(1, minor);
const s = (minor: number): number => protocolVersion(2, minor);
const bytes = (chunks: Uint8Array[]): Uint8Array => concatBytes(chunks);
const reader = (b: Uint8Array): WireReader => new WireReader(new StreamSource(b));

const RESULT: BuildResult = {
  status: 0,
  errorMsg: '',
  timesBuilt: 1,
  isNonDeterministic: false,
  startTime: 1795253762,
  stopTime: 1795253763,
  cpuUser: 1234,
  cpuSystem: undefined,
  builtOutputs: [{ id: 'sha256:00!out', realisation: '{"id":"sha256:00!out"}' }],
};

test('BuildResult: worker gates 1.28 builtOutputs, 1.29 times, 1.37 cpu times; serve 2.3 times, 2.6 builtOutputs', async () => {
  const size = (layout: ReturnType<typeof workerBuildResultLayout>): number => {
    const x = new WireWriter();
    writeBuildResult(x, RESULT, layout);
    return x.length;
  };
  const base = 8 + 8; // status + empty errorMsg
  const outputs = 8 + (8 + 16) + (8 + 24);
  assert.equal(size(workerBuildResultLayout(w(27))), base);
  assert.equal(size(workerBuildResultLayout(w(28))), base + outputs);
  assert.equal(size(workerBuildResultLayout(w(29))), base + 32 + outputs);
  assert.equal(size(workerBuildResultLayout(w(37))), base + 32 + 16 + 8 + outputs);
  assert.equal(size(serveBuildResultLayout(s(2))), base);
  assert.equal(size(serveBuildResultLayout(s(5))), base + 32);
  assert.equal(size(serveBuildResultLayout(s(7))), base + 32 + outputs);
  const x = new WireWriter();
  writeBuildResult(x, RESULT, workerBuildResultLayout(w(37)));
  assert.deepEqual(await readBuildResult(reader(x.toBytes()), workerBuildResultLayout(w(37))), RESULT);
});

test('handshake: 1.33 nixVersion, 1.35 trusted, 1.14 cpu affinity, 1.11 reserveSpace; min() negotiation', async () => {
  const info = { nixVersion: '2.24.0', trusted: 1 };
  assert.equal(bytes(encodeWorkerServerInfo(info, w(32))).length, 0);
  assert.equal(bytes(encodeWorkerServerInfo(info, w(34))).length, 16);
  assert.equal(bytes(encodeWorkerServerInfo(info, w(35))).length, 24);
  assert.deepEqual(await decodeWorkerServerInfo(reader(bytes(encodeWorkerServerInfo(info, w(38)))), w(38)), info);
  assert.deepEqual(await decodeWorkerClientSettings(reader(bytes(encodeWorkerClientSettings({ cpuAffinity: 3, reserveSpace: true }, w(14)))), w(14)), { cpuAffinity: 3, reserveSpace: true });
  assert.equal(bytes(encodeWorkerClientSettings({ reserveSpace: true }, w(10))).length, 0);
  assert.equal(bytes(encodeWorkerClientSettings({ reserveSpace: true }, w(11))).length, 8);
  assert.equal(negotiateVersion(w(38), w(34)), w(34));
  assert.equal(formatProtocolVersion(0x122), '1.34');
});

test('STDERR_ERROR: structured layout from 1.26, message + exit status before', async () => {
  const err = workerError('boom', { exitStatus: 100, traces: ['while doing x'] });
  const old = bytes(encodeStderr({ type: 'error', error: err }, w(25)));
  assert.equal(old.length, 8 + 16 + 8);
  assert.deepEqual(await decodeStderr(reader(old), w(25)), { type: 'error', error: { ...err, traces: [] } });
  const modern = bytes(encodeStderr({ type: 'error', error: err }, w(26)));
  assert.deepEqual(await decodeStderr(reader(modern), w(26)), { type: 'error', error: { ...err, exitStatus: 1 } });
});

test('requests: QueryValidPaths substitute from 1.27, BuildPaths buildMode from 1.15, RegisterDrvOutput forms at 1.31', async () => {
  const q = { op: 'QueryValidPaths', paths: ['/nix/store/b', '/nix/store/a'], substitute: true } as const;
  assert.equal(bytes(encodeWorkerRequest(q, w(26))).length + 8, bytes(encodeWorkerRequest(q, w(27))).length);
  assert.deepEqual(await decodeWorkerRequest(reader(bytes(encodeWorkerRequest(q, w(27)))), w(27)), { ...q, paths: ['/nix/store/a', '/nix/store/b'] });
  const b = { op: 'BuildPaths', derivedPaths: ['/nix/store/x.drv!out'], buildMode: 2 } as const;
  assert.deepEqual(await decodeWorkerRequest(reader(bytes(encodeWorkerRequest(b, w(15)))), w(15)), b);
  assert.deepEqual(await decodeWorkerRequest(reader(bytes(encodeWorkerRequest(b, w(14)))), w(14)), { ...b, buildMode: 0 });
  const json = { op: 'RegisterDrvOutput', realisation: '{}' } as const;
  assert.deepEqual(await decodeWorkerRequest(reader(bytes(encodeWorkerRequest(json, w(31)))), w(31)), json);
  const legacy = { op: 'RegisterDrvOutput', id: 'sha256:00!out', outPath: 'abc-x' } as const;
  assert.deepEqual(await decodeWorkerRequest(reader(bytes(encodeWorkerRequest(legacy, w(30)))), w(30)), legacy);
  assert.throws(() => encodeWorkerRequest(json, w(30)));
  const log = { op: 'AddBuildLog', drvBaseName: 'abc-x.drv', log: new Uint8Array([104, 105]) } as const;
  assert.deepEqual(await decodeWorkerRequest(reader(bytes(encodeWorkerRequest(log, w(34)))), w(34)), log);
  const root = { op: 'AddPermRoot', path: '/nix/store/p', gcRoot: '/r' } as const;
  assert.deepEqual(await decodeWorkerRequest(reader(bytes(encodeWorkerRequest(root, w(36)))), w(36)), root);
});

test('replies: QueryPathInfo valid flag from 1.17; path info sigs/ca from 1.16', async () => {
  const info = { deriver: '', narHash: 'ab', references: [], registrationTime: 1, narSize: 2, ultimate: true, sigs: ['k:s'], ca: '' };
  const req = { op: 'QueryPathInfo', path: '/nix/store/p' } as const;
  for (const minor of [16, 17, 34]) {
    const reply = { op: 'QueryPathInfo', info } as const;
    assert.deepEqual(await decodeWorkerReply(reader(bytes(encodeWorkerReply(reply, w(minor)))), req, w(minor)), reply);
  }
  assert.deepEqual(await decodeWorkerReply(reader(bytes(encodeWorkerReply({ op: 'QueryPathInfo', info: undefined }, w(17)))), req, w(17)), { op: 'QueryPathInfo', info: undefined });
  assert.throws(() => encodeWorkerReply({ op: 'QueryPathInfo', info: undefined }, w(16)));
  const old = await decodeWorkerReply(reader(bytes(encodeWorkerReply({ op: 'QueryPathInfo', info }, w(15)))), req, w(15));
  assert.deepEqual(old, { op: 'QueryPathInfo', info: { ...info, ultimate: false, sigs: [] } });
});

test('serve BuildSettings: 2.2 maxLogSize, 2.3 repeat/determinism, 2.7 keepFailed', async () => {
  const req = { cmd: 'BuildPaths', paths: ['/nix/store/x.drv!out'], settings: { ...DEFAULT_SERVE_BUILD_SETTINGS, maxLogSize: 5, keepFailed: true } } as const;
  const len = (minor: number): number => bytes(encodeServeRequest(req, s(minor))).length;
  assert.deepEqual([len(1), len(2), len(3), len(6), len(7)].map((n) => n - len(1)), [0, 8, 24, 24, 32]);
  assert.deepEqual(await decodeServeRequest(reader(bytes(encodeServeRequest(req, s(7)))), s(7)), req);
  assert.deepEqual(await decodeServeRequest(reader(bytes(encodeServeRequest(req, s(2)))), s(2)), {
    ...req,
    settings: { ...req.settings, enforceDeterminism: false, keepFailed: false },
  });
});

test('DerivedPath: a bare .drv means all outputs in the old syntax, the file itself from 1.30', () => {
  assert.equal(workerDerivedPathSyntax(w(29)), 'old');
  assert.equal(workerDerivedPathSyntax(w(30)), 'new');
  assert.deepEqual(parseDerivedPath('/nix/store/x.drv', 'old'), { type: 'built', drvPath: '/nix/store/x.drv', outputs: 'all' });
  assert.deepEqual(parseDerivedPath('/nix/store/x.drv', 'new'), { type: 'opaque', path: '/nix/store/x.drv' });
  assert.deepEqual(parseDerivedPath('/nix/store/x.drv!*', 'new'), { type: 'built', drvPath: '/nix/store/x.drv', outputs: 'all' });
  assert.deepEqual(parseDerivedPath('/nix/store/x.drv!out,dev', 'old'), { type: 'built', drvPath: '/nix/store/x.drv', outputs: ['out', 'dev'] });
  assert.equal(formatDerivedPath({ type: 'built', drvPath: '/nix/store/x.drv', outputs: 'all' }, 'new'), '/nix/store/x.drv!*');
  assert.equal(formatDerivedPath({ type: 'built', drvPath: '/nix/store/x.drv', outputs: 'all' }, 'old'), '/nix/store/x.drv');
  assert.throws(() => parseDerivedPath('/nix/store/x.drv!out,', 'new'));
});
