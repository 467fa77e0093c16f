/**
 * The session's pure parts: upload order of outputs, the PathInfo an output is reported with
 * (content address of fixed outputs), the build-status mapping, reading an Assignment, the lease
 * table's renewal and self-fencing by an injected clock; and NATS request errors carried in
 * farm-error headers (real nats-server).
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { isFarmError, ManualClock } from '@farm/common';
import { Hash } from '@farm/nix';
import { encodeMessage, type Assignment__Output } from '@farm/proto';
import { connect, headers } from '@nats-io/transport-node';
import { startNatsServer } from '@farm/testkit';
import { LeaseTable, natsRequest, pathInfoOf, referenceOrder, viewAssignment, wireStatusOf, type BuiltOutput, type BuildStatus } from '../src/index.js';
import { fakeStorePath, scriptDrv } from './fixtures/build-helpers.js';

const h = Hash.of('sha256', 'x');
const out = (name: string, path: string, references: string[]): BuiltOutput => ({ name, path, narHash: h, narSize: 10, references });

test('referenceOrder puts an output after the outputs it references; self and outside references do not count', () => {
  const [a, b, c, ext] = ['a', 'b', 'c', 'ext'].map((n) => fakeStorePath(n)) as [string, string, string, string];
  const order = referenceOrder('/nix/store/x.drv', [out('out', a, [a, b, ext]), out('lib', b, [b]), out('dev', c, [a, b])]);
  assert.ok(order.ok);
  assert.deepEqual(order.order.map((o) => o.name), ['lib', 'out', 'dev']);
  const cycle = referenceOrder('/nix/store/x.drv', [out('out', a, [b]), out('lib', b, [a])]);
  assert.equal(cycle.ok, false);
  assert.match(cycle.ok ? '' : cycle.message, /cycle detected in build of '\/nix\/store\/x\.drv'/);
});

test('pathInfoOf: full paths, sorted references, sha256:<nix32>, and a fixed: content address for fixed outputs', () => {
  const drv = scriptDrv('true');
  const p = drv.outputs.get('out')!.path;
  const ref = fakeStorePath('zzz');
  const ref2 = fakeStorePath('aaa');
  const info = pathInfoOf('/nix/store/d.drv', drv, out('out', p, [ref, ref2]));
  assert.deepEqual(info, { path: p, deriver: '/nix/store/d.drv', narHash: h.toPrefixed('nix32'), narSize: '10', references: [ref, ref2].sort(), ca: '' });
  const flat = Hash.of('sha256', 'contents');
  const fod = scriptDrv('true', { fixed: { algo: 'sha256', hash: flat.base16 } });
  assert.equal(pathInfoOf('/nix/store/f.drv', fod, out('out', fod.outputs.get('out')!.path, [])).ca, `fixed:${flat.toPrefixed('nix32')}`);
  const rec = scriptDrv('true', { fixed: { algo: 'r:sha256', hash: flat.base16 } });
  assert.equal(pathInfoOf('/nix/store/r.drv', rec, out('out', rec.outputs.get('out')!.path, [])).ca, `fixed:r:${flat.toPrefixed('nix32')}`);
});

test('the builder statuses map onto the wire statuses as the contract says', () => {
  const expected: Record<BuildStatus, string> = {
    built: 'BUILD_STATUS_BUILT',
    failed: 'BUILD_STATUS_FAILED',
    'timed-out': 'BUILD_STATUS_TIMED_OUT',
    'silent-too-long': 'BUILD_STATUS_SILENT_TOO_LONG',
    'output-missing': 'BUILD_STATUS_OUTPUT_MISSING',
    'log-limit-exceeded': 'BUILD_STATUS_LOG_LIMIT',
    'hash-mismatch': 'BUILD_STATUS_FAILED',
    'sandbox-error': 'BUILD_STATUS_SANDBOX_ERROR',
    cancelled: 'BUILD_STATUS_CANCELLED',
  };
  for (const [s, w] of Object.entries(expected)) assert.equal(wireStatusOf(s as BuildStatus), w);
});

test('viewAssignment: Maps in bytewise key order, 0 limits as none', () => {
  const a: Assignment__Output = {
    lease: { jobId: 'j', epoch: '9' },
    deadlineMs: '0',
    drvPath: '/nix/store/x-y.drv',
    drv: { outputs: { out: { path: '/nix/store/o', hashAlgo: '', hash: '' }, dev: { path: '/nix/store/d', hashAlgo: '', hash: '' } }, inputSrcs: ['/nix/store/i'], system: 's', builder: 'b', args: ['-c'], env: { b: '2', a: '1', B: '0' } },
    inputs: [{ path: '/nix/store/i', deriver: '', narHash: '', narSize: '1', references: [], registrationTime: '0', sigs: [], ca: '' }],
    timeoutMs: '0',
    maxSilentMs: '5000',
    maxLogBytes: '0',
    inputNars: [],
  };
  const v = viewAssignment(a);
  assert.deepEqual([...v.drv.env.keys()], ['B', 'a', 'b']);
  assert.deepEqual([...v.drv.outputs.keys()], ['dev', 'out']);
  assert.deepEqual(v.inputPaths, ['/nix/store/i']);
  assert.equal(v.timeoutMs, undefined);
  assert.equal(v.maxSilentMs, 5000);
  assert.equal(v.maxLogBytes, undefined);
  assert.equal(v.epoch, '9');
  assert.throws(() => viewAssignment({ ...a, lease: null }), /without a lease/);
  assert.throws(() => viewAssignment({ ...a, drv: null }), /without a derivation/);
});

test('LeaseTable: renewal by heartbeat send time, fencing after leaseMs, revocation by epoch', () => {
  const clock = new ManualClock(1_000);
  const t = new LeaseTable();
  const a = t.add('a', '1', clock.now());
  const b = t.add('b', '2', clock.now());
  clock.advance(900);
  t.renew([{ jobId: 'a', epoch: '1' }, { jobId: 'b', epoch: '1' }], clock.now()); // b's epoch is 2: not renewed
  clock.advance(200);
  assert.deepEqual(t.fenceExpired(clock.now(), 1000), [b]);
  assert.equal(b.stop?.reason, 'fenced');
  assert.equal(b.controller.signal.aborted, true);
  assert.equal(a.controller.signal.aborted, false);
  assert.deepEqual(t.leases(), [{ jobId: 'a', epoch: '1' }], 'a fenced lease is no longer claimed');
  assert.equal(t.size, 2, 'but holds its slot until its attempt ends');
  assert.deepEqual(t.stop('a', '2', 'revoked', 'x'), []);
  assert.deepEqual(t.stop('a', '1', 'revoked', 'cancelled'), [a]);
  assert.equal(a.stop?.reason, 'revoked');
  // The first reason wins.
  t.stopAll('closing', 'bye');
  assert.equal(a.stop?.reason, 'revoked');
  let freed = false;
  void t.nextRelease().then(() => (freed = true));
  t.remove(a);
  t.remove(b);
  assert.equal(t.size, 0);
  return new Promise<void>((r) => setImmediate(r)).then(() => assert.equal(freed, true));
});

test('LeaseTable: a lease whose sandbox is done keeps its lease but frees its build slot', async () => {
  const t = new LeaseTable();
  const a = t.add('a', '1', 0);
  const b = t.add('b', '1', 0);
  assert.equal(t.building, 2);
  let woken = 0;
  void t.nextRelease().then(() => woken++);
  t.releaseSlot(a);
  t.releaseSlot(a); // idempotent
  assert.equal(t.building, 1);
  assert.equal(t.size, 2, 'the lease is still held (and renewed) while it uploads');
  assert.deepEqual(t.leases().map((l) => l.jobId), ['a', 'b']);
  await new Promise<void>((r) => setImmediate(r));
  assert.equal(woken, 1, 'a freed slot wakes the work loop');
  t.remove(b);
  assert.equal(t.building, 0);
});

test('natsRequest: error headers become FarmErrors with their code; no responder is UNAVAILABLE', async () => {
  const nats = await startNatsServer();
  const nc = await connect({ servers: nats.url });
  try {
    nc.subscribe('t.err', {
      callback: (_e, m) => {
        const hd = headers();
        hd.set('farm-error-code', 'NOT_FOUND');
        hd.set('farm-error-message', 'agent x is not registered');
        m.respond(new Uint8Array(0), { headers: hd });
      },
    });
    nc.subscribe('t.ok', { callback: (_e, m) => void m.respond(encodeMessage('AgentWelcome', { agentId: 'x', leaseMs: '100', heartbeatMs: '10' })) });
    nc.subscribe('t.garbage', { callback: (_e, m) => void m.respond(new Uint8Array([0xff, 0xff, 0xff])) });
    await nc.flush();
    await assert.rejects(natsRequest(nc, 't.err', 'Heartbeat', { agentId: 'x' }, 'HeartbeatAck', 2000), (e) => isFarmError(e, 'NOT_FOUND') && e.message === 'agent x is not registered');
    assert.deepEqual(await natsRequest(nc, 't.ok', 'AgentHello', { name: 'x' }, 'AgentWelcome', 2000), { agentId: 'x', leaseMs: '100', heartbeatMs: '10' });
    await assert.rejects(natsRequest(nc, 't.none', 'Heartbeat', {}, 'HeartbeatAck', 2000), (e) => isFarmError(e, 'UNAVAILABLE'));
    await assert.rejects(natsRequest(nc, 't.garbage', 'Heartbeat', {}, 'HeartbeatAck', 2000), (e) => isFarmError(e, 'INTERNAL'));
  } finally {
    await nc.close();
    await nats.stop();
  }
});
