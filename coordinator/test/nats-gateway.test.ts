/**
 * The NATS agent gateway against a real nats-server, with a stub AgentApi: protobuf round trips
 * for register / heartbeat / work, errors as headers, malformed bytes, concurrent long polls
 * (answered on release, aborted on close) and revocations on the agent's control subject.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { FarmError, silentLogger } from '@farm/common';
import {
  decodeMessage,
  encodeMessage,
  SUBJECTS,
  type AgentHello__Output,
  type AgentWelcome,
  type AgentWelcome__Output,
  type BuildResult__Output,
  type Heartbeat__Output,
  type HeartbeatAck,
  type HeartbeatAck__Output,
  type Revoke,
  type Revoke__Output,
  type WorkReply,
  type WorkReply__Output,
  type WorkRequest__Output,
} from '@farm/proto';
import { startNatsServer } from '@farm/testkit';
import { connect, type Msg, type NatsConnection } from '@nats-io/transport-node';
import { startAgentGateway, type AgentApi, type AgentGateway, type ApplyResultOutcome } from '../src/index.js';

interface PendingPoll {
  readonly request: WorkRequest__Output;
  readonly signal: AbortSignal;
  release(reply: WorkReply): void;
}

class StubApi implements AgentApi {
  readonly hellos: AgentHello__Output[] = [];
  readonly polls: PendingPoll[] = [];
  aborted = 0;
  private readonly listeners = new Set<(agentId: string, revoke: Revoke) => void>();

  async register(hello: AgentHello__Output): Promise<AgentWelcome> {
    if (hello.name === 'boom') throw new Error('disk on fire');
    if (!/^[A-Za-z0-9_-]{1,64}$/.test(hello.name)) throw new FarmError('INVALID_ARGUMENT', `bad agent name '${hello.name}'\n(see docs)`);
    this.hellos.push(hello);
    return { agentId: hello.name, leaseMs: 15000, heartbeatMs: 3000 };
  }

  async heartbeat(beat: Heartbeat__Output): Promise<HeartbeatAck> {
    if (!this.hellos.some((h) => h.name === beat.agentId)) throw new FarmError('NOT_FOUND', `agent ${beat.agentId} is not registered`);
    return { renewed: beat.leases, revoked: [], leaseDeadlineMs: '1700000015000' };
  }

  requestWork(request: WorkRequest__Output, signal: AbortSignal): Promise<WorkReply> {
    return new Promise((resolve) => {
      const poll: PendingPoll = {
        request,
        signal,
        release: (reply) => {
          this.polls.splice(this.polls.indexOf(poll), 1);
          resolve(reply);
        },
      };
      signal.addEventListener('abort', () => {
        this.aborted++;
        poll.release({ assignments: [] });
      });
      this.polls.push(poll);
    });
  }

  async applyResult(_result: BuildResult__Output): Promise<ApplyResultOutcome> {
    return { accepted: true };
  }

  onRevoke(listener: (agentId: string, revoke: Revoke) => void): () => void {
    this.listeners.add(listener);
    return () => this.listeners.delete(listener);
  }

  revoke(agentId: string, revoke: Revoke): void {
    for (const l of this.listeners) l(agentId, revoke);
  }

  get revokeListeners(): number {
    return this.listeners.size;
  }
}

async function withGateway(fn: (ctx: { nc: NatsConnection; api: StubApi; gateway: AgentGateway }) => Promise<void>): Promise<void> {
  const nats = await startNatsServer();
  const api = new StubApi();
  let gatewayConn: NatsConnection | undefined;
  let client: NatsConnection | undefined;
  let gateway: AgentGateway | undefined;
  try {
    gatewayConn = await connect({ servers: nats.url, name: 'test-coordinator' });
    client = await connect({ servers: nats.url, name: 'test-agent' });
    gateway = startAgentGateway({ nc: gatewayConn, api, logger: silentLogger() });
    await gatewayConn.flush(); // subscriptions are registered with the server
    await fn({ nc: client, api, gateway });
  } finally {
    await gateway?.close();
    await client?.close();
    await gatewayConn?.close();
    await nats.stop();
  }
}

async function call<T>(nc: NatsConnection, subject: string, type: string | undefined, body: Record<string, unknown> | Uint8Array, replyType: string, timeout = 5000): Promise<{ reply?: T; error?: { code: string; message: string }; msg: Msg }> {
  const data = body instanceof Uint8Array ? body : encodeMessage(type ?? '', body);
  const msg = await nc.request(subject, data, { timeout });
  const code = msg.headers?.get('farm-error-code');
  if (code !== undefined && code !== '') return { error: { code, message: msg.headers?.get('farm-error-message') ?? '' }, msg };
  return { reply: decodeMessage<T>(replyType, msg.data), msg };
}

const hello = (name: string) => ({
  name,
  host: 'builder-1',
  version: '0.1.0',
  capabilities: { systems: ['x86_64-linux', 'aarch64-linux'], supportedFeatures: ['big-parallel'], mandatoryFeatures: [], maxJobs: 4, speedFactor: 1.5, emulated: { 'aarch64-linux': 'qemu (/usr/bin/qemu-aarch64-static)' } },
  running: [{ jobId: 'a'.repeat(32), epoch: '2' }],
});

async function eventually(probe: () => boolean, what: string, timeoutMs = 5000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!probe()) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 10));
  }
}

test('register and heartbeat round trip with protobuf bodies', async () => {
  await withGateway(async ({ nc, api }) => {
    const welcome = await call<AgentWelcome__Output>(nc, SUBJECTS.register, 'AgentHello', hello('agent-1'), 'AgentWelcome');
    assert.deepEqual(welcome.reply, { agentId: 'agent-1', leaseMs: '15000', heartbeatMs: '3000' });
    assert.equal(api.hellos.length, 1);
    assert.deepEqual(api.hellos[0], {
      name: 'agent-1',
      host: 'builder-1',
      version: '0.1.0',
      capabilities: { systems: ['x86_64-linux', 'aarch64-linux'], supportedFeatures: ['big-parallel'], mandatoryFeatures: [], maxJobs: 4, speedFactor: 1.5, emulated: { 'aarch64-linux': 'qemu (/usr/bin/qemu-aarch64-static)' } },
      running: [{ jobId: 'a'.repeat(32), epoch: '2' }],
    });

    const leases = [{ jobId: 'b'.repeat(32), epoch: '7' }];
    const ack = await call<HeartbeatAck__Output>(nc, SUBJECTS.heartbeat, 'Heartbeat', { agentId: 'agent-1', leases, freeSlots: 3, draining: false }, 'HeartbeatAck');
    assert.deepEqual(ack.reply, { renewed: leases, revoked: [], leaseDeadlineMs: '1700000015000' });
  });
});

test('errors become farm-error headers with an empty body; malformed bytes are INVALID_ARGUMENT and serving goes on', async () => {
  await withGateway(async ({ nc }) => {
    const unknown = await call(nc, SUBJECTS.heartbeat, 'Heartbeat', { agentId: 'ghost', leases: [], freeSlots: 1, draining: false }, 'HeartbeatAck');
    assert.deepEqual(unknown.error, { code: 'NOT_FOUND', message: 'agent ghost is not registered' });
    assert.equal(unknown.msg.data.length, 0);

    const bad = await call(nc, SUBJECTS.register, 'AgentHello', hello('no spaces allowed'), 'AgentWelcome');
    assert.equal(bad.error?.code, 'INVALID_ARGUMENT');
    assert.equal(bad.error?.message, "bad agent name 'no spaces allowed' (see docs)", 'newlines flattened');

    const crash = await call(nc, SUBJECTS.register, 'AgentHello', hello('boom'), 'AgentWelcome');
    assert.equal(crash.error?.code, 'INTERNAL');
    assert.match(crash.error?.message ?? '', /disk on fire/);

    for (const subject of [SUBJECTS.register, SUBJECTS.heartbeat, SUBJECTS.workRequest]) {
      const garbage = await call(nc, subject, undefined, new Uint8Array([0xff, 0xff, 0xff, 0xff, 0x0f]), 'WorkReply');
      assert.equal(garbage.error?.code, 'INVALID_ARGUMENT', subject);
      assert.match(garbage.error?.message ?? '', /malformed/);
    }

    const ok = await call<AgentWelcome__Output>(nc, SUBJECTS.register, 'AgentHello', hello('agent-2'), 'AgentWelcome');
    assert.equal(ok.reply?.agentId, 'agent-2', 'still serving after garbage');
  });
});

test('a long poll does not block other requests and is answered when work is released', async () => {
  await withGateway(async ({ nc, api, gateway }) => {
    await call(nc, SUBJECTS.register, 'AgentHello', hello('agent-1'), 'AgentWelcome');
    const polls = [1, 2].map(() =>
      call<WorkReply__Output>(nc, SUBJECTS.workRequest, 'WorkRequest', { agentId: 'agent-1', freeSlots: 2, waitMs: '20000' }, 'WorkReply', 25_000),
    );
    await eventually(() => api.polls.length === 2, 'two pending polls');
    assert.equal(gateway.inFlight, 2);
    assert.deepEqual(api.polls[0]?.request, { agentId: 'agent-1', freeSlots: 2, waitMs: '20000' });

    // Heartbeats still flow while two long polls are pending.
    const ack = await call<HeartbeatAck__Output>(nc, SUBJECTS.heartbeat, 'Heartbeat', { agentId: 'agent-1', leases: [], freeSlots: 2, draining: false }, 'HeartbeatAck');
    assert.equal(ack.reply?.leaseDeadlineMs, '1700000015000');

    const assignment = {
      lease: { jobId: 'c'.repeat(32), epoch: '1' },
      deadlineMs: '1700000015000',
      drvPath: `/nix/store/${'c'.repeat(32)}-hello.drv`,
      drv: {
        outputs: { out: { path: `/nix/store/${'d'.repeat(32)}-hello`, hashAlgo: '', hash: '' } },
        inputSrcs: [],
        system: 'x86_64-linux',
        builder: '/bin/sh',
        args: ['-c', 'echo hi > $out'],
        env: { out: `/nix/store/${'d'.repeat(32)}-hello` },
      },
      inputs: [],
      timeoutMs: '0',
      maxSilentMs: '0',
      maxLogBytes: '67108864',
    };
    api.polls[0]?.release({ assignments: [assignment] });
    api.polls[0]?.release({ assignments: [] });
    const replies = await Promise.all(polls);
    const got = replies.map((r) => r.reply?.assignments.length).sort();
    assert.deepEqual(got, [0, 1]);
    const withWork = replies.find((r) => r.reply?.assignments.length === 1)?.reply?.assignments[0];
    assert.equal(withWork?.drvPath, assignment.drvPath);
    assert.deepEqual(withWork?.lease, assignment.lease);
    assert.deepEqual(withWork?.drv?.args, ['-c', 'echo hi > $out']);
    assert.equal(withWork?.maxLogBytes, '67108864');
  });
});

test('close aborts pending long polls (answered empty) and stops serving', async () => {
  await withGateway(async ({ nc, api, gateway }) => {
    const poll = call<WorkReply__Output>(nc, SUBJECTS.workRequest, 'WorkRequest', { agentId: 'agent-1', freeSlots: 1, waitMs: '20000' }, 'WorkReply', 25_000);
    await eventually(() => api.polls.length === 1, 'a pending poll');
    await gateway.close();
    assert.equal(api.aborted, 1);
    assert.equal(gateway.inFlight, 0);
    assert.deepEqual((await poll).reply, { assignments: [] });
    assert.equal(api.revokeListeners, 0, 'revocation listener removed');
    await assert.rejects(call(nc, SUBJECTS.register, 'AgentHello', hello('late'), 'AgentWelcome', 1000), 'no responders after close');
    assert.equal(api.hellos.length, 0);
    await gateway.close(); // idempotent
  });
});

test('revocations are published on farm.agent.<id>.control', async () => {
  await withGateway(async ({ nc, api }) => {
    const sub = nc.subscribe('farm.agent.agent-7.control', { max: 2 });
    const other = nc.subscribe('farm.agent.agent-8.control');
    await nc.flush();
    api.revoke('agent-7', { lease: { jobId: 'e'.repeat(32), epoch: '4' }, reason: 'cancelled' });
    api.revoke('agent-7', { lease: { jobId: 'f'.repeat(32), epoch: 5 }, reason: 'lease lost' });
    const got: Revoke__Output[] = [];
    for await (const m of sub) got.push(decodeMessage<Revoke__Output>('Revoke', m.data));
    assert.deepEqual(got, [
      { lease: { jobId: 'e'.repeat(32), epoch: '4' }, reason: 'cancelled' },
      { lease: { jobId: 'f'.repeat(32), epoch: '5' }, reason: 'lease lost' },
    ]);
    assert.equal(other.getReceived(), 0);
    other.unsubscribe();
  });
});
