/**
 * FarmClient against a real gRPC server (the stub coordinator): unary calls, AddPath in ≤ 1 MiB
 * messages and refusals as FarmErrors with the server's code, server streams that cancel the
 * call when the consumer stops, and an unreachable coordinator reported with its address and
 * where that address came from.
 */
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { isFarmError } from '@farm/common';
import { Hash } from '@farm/nix';
import { FarmClient, MAX_NAR_CHUNK } from '../src/client/coordinator-client.js';
import { freeLoopbackPort, startStubCoordinator, type StubCoordinator } from './fixtures/stub-coordinator.js';

const P = (h: string, name: string) => `/nix/store/${h.repeat(32).slice(0, 32)}-${name}`;
const present = P('a', 'present');
let stub: StubCoordinator;
let client: FarmClient;

before(async () => {
  stub = await startStubCoordinator({
    present: [present],
    logs: (req) => [{ jobId: req.jobId, epoch: 1, seq: 0, data: Buffer.from('hello\n') }],
    holdFollowOpen: true,
    agents: { agents: [{ agentId: 'a1', host: 'h', capabilities: { systems: ['x86_64-linux'], supportedFeatures: [], mandatoryFeatures: [], maxJobs: 2, speedFactor: 1 }, running: 1, draining: false, lastHeartbeatMs: 5 }] },
  });
  client = new FarmClient({ address: stub.address, source: 'flag', origin: 'from --coordinator' });
});
after(async () => {
  client.close();
  await stub.close();
});

function header(path: string, nar: Buffer, references: string[] = []) {
  return {
    info: {
      path,
      deriver: '',
      narHash: Hash.fromDigest('sha256', createHash('sha256').update(nar).digest()).toPrefixed('nix32'),
      narSize: String(nar.length),
      references,
      ca: '',
    },
  };
}

test('unary calls: GetInfo, QueryMissing, ListAgents', async () => {
  assert.equal((await client.getInfo()).storeDir, '/nix/store');
  const other = P('b', 'other');
  assert.deepEqual(await client.queryMissing([present, other]), [other]);
  const agents = await client.listAgents();
  assert.equal(agents.agents[0]?.agentId, 'a1');
  assert.equal(agents.agents[0]?.lastHeartbeatMs, '5');
});

test('AddPath sends a 5 MiB NAR in messages of at most 1 MiB, with back-pressure, and the server verifies it', async () => {
  const nar = Buffer.alloc(5 * MAX_NAR_CHUNK + 123, 7);
  const path = P('c', 'big');
  const res = await client.addPath(header(path, nar), [nar.subarray(0, 100), nar.subarray(100)]);
  assert.equal(res.alreadyValid, false);
  assert.equal(stub.uploads.at(-1)?.narSize, nar.length);
  assert.ok(stub.present.has(path));
});

test('AddPath refused by the server (missing reference) rejects with its code and message', async () => {
  const nar = Buffer.from('x');
  const missingRef = P('d', 'dep');
  await assert.rejects(
    client.addPath(header(P('e', 'needs-dep'), nar, [missingRef]), (async function* () {
      yield nar;
    })()),
    (e) => isFarmError(e, 'FAILED_PRECONDITION') && e.message.includes(missingRef),
  );
});

test('AddPath whose local NAR fails midway abandons the upload and rejects with the local error', async () => {
  const nar = Buffer.from('partial');
  await assert.rejects(
    client.addPath(header(P('f', 'broken'), nar), (async function* () {
      yield nar;
      throw new Error('disk on fire');
    })()),
    /disk on fire/,
  );
  assert.ok(!stub.present.has(P('f', 'broken')));
});

test('a server stream cancels its call when the consumer stops early', async () => {
  for await (const c of client.logs({ jobId: 'j1', follow: true })) {
    assert.equal(c.data.toString(), 'hello\n');
    break;
  }
  for (let i = 0; i < 100 && stub.cancelledLogs() === 0; i++) await new Promise((r) => setTimeout(r, 20));
  assert.equal(stub.cancelledLogs(), 1);
});

test('an abort signal ends a parked server stream quietly', async () => {
  const ac = new AbortController();
  const got: string[] = [];
  const done = (async () => {
    for await (const c of client.logs({ jobId: 'j2', follow: true }, ac.signal)) got.push(c.data.toString());
  })();
  await new Promise((r) => setTimeout(r, 100));
  ac.abort();
  await done;
  assert.deepEqual(got, ['hello\n']);
});

test('a NOT_FOUND from a stream arrives as a FarmError with that code', async () => {
  const bare = await startStubCoordinator({});
  const c = new FarmClient({ address: bare.address, source: 'flag', origin: 'from --coordinator' });
  try {
    await assert.rejects(async () => {
      for await (const _ of c.logs({ jobId: 'nope' })) void _;
    }, (e) => isFarmError(e, 'NOT_FOUND') && /nope/.test(e.message));
  } finally {
    c.close();
    await bare.close();
  }
});

test('an unreachable coordinator is UNAVAILABLE naming the address, how it was found, and a dead farm up', async () => {
  const port = await freeLoopbackPort();
  const c = new FarmClient({ address: `127.0.0.1:${port}`, source: 'address-file', origin: 'from /x/address.json (farm up pid 999999)', pid: 999_999 });
  try {
    await assert.rejects(c.getInfo(), (e) => {
      assert.ok(isFarmError(e, 'UNAVAILABLE'));
      assert.match(e.message, new RegExp(`coordinator at 127\\.0\\.0\\.1:${port} \\(from /x/address\\.json \\(farm up pid 999999\\)\\) is unreachable`));
      assert.match(e.message, /the farm up process \(pid 999999\) is no longer running/);
      return true;
    });
  } finally {
    c.close();
  }
});
