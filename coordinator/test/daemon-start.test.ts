/**
 * startCoordinator end to end on a temp state dir and a real nats-server. The coordinator runs in
 * a child process so that "close() leaves no handles" is checked the only way that means
 * something: after close the child must exit on its own (no process.exit). In between, gRPC
 * GetInfo answers and a fake agent speaking raw NATS (register, heartbeat, work request) is
 * listed by ListAgents. In-process: close is idempotent, and a start that cannot reach NATS
 * fails with UNAVAILABLE and releases the state dir.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { createInterface } from 'node:readline';
import { fileURLToPath } from 'node:url';
import { FarmError, silentLogger } from '@farm/common';
import {
  createCoordinatorClient,
  decodeMessage,
  encodeMessage,
  SUBJECTS,
  type AgentInfo__Output,
  type AgentWelcome__Output,
  type CoordinatorClient,
  type GetInfoResponse__Output,
  type HeartbeatAck__Output,
  type WorkReply__Output,
} from '@farm/proto';
import { freePort, makeTempDir, startNatsServer } from '@farm/testkit';
import { connect, type NatsConnection } from '@nats-io/transport-node';
import { compileCoordinatorConfig, startCoordinator } from '../src/index.js';

const COORDINATOR_INDEX = fileURLToPath(new URL('../src/index.js', import.meta.url));
const COMMON_INDEX = fileURLToPath(import.meta.resolve('@farm/common'));

/** Starts the coordinator in a child; `close()` asks it to close and resolves with its exit code. */
async function spawnCoordinator(config: object): Promise<{ grpc: string; close(): Promise<number | null>; kill(): void }> {
  const script = `
    import { compileCoordinatorConfig, startCoordinator } from ${JSON.stringify(COORDINATOR_INDEX)};
    import { silentLogger } from ${JSON.stringify(COMMON_INDEX)};
    const running = await startCoordinator(compileCoordinatorConfig(JSON.parse(process.argv[1]), 'test config'), { logger: silentLogger() });
    process.stdout.write(JSON.stringify({ grpc: running.grpcAddress }) + '\\n');
    process.stdin.once('data', async () => {
      process.stdin.destroy();
      await running.close();
      await running.close();
      process.stdout.write('closed\\n');
    });
  `;
  const child = spawn(process.execPath, ['--input-type=module', '-e', script, JSON.stringify(config)], { stdio: ['pipe', 'pipe', 'pipe'] });
  const stderr: string[] = [];
  child.stderr.on('data', (d: Buffer) => stderr.push(d.toString()));
  const exited = new Promise<number | null>((resolve) => child.once('exit', (code) => resolve(code)));
  const lines = createInterface({ input: child.stdout })[Symbol.asyncIterator]();
  const first = await Promise.race([lines.next(), exited.then((code) => ({ done: true as const, value: `exit ${code}` }))]);
  if (first.done === true) throw new Error(`coordinator did not start: ${first.value} ${stderr.join('')}`);
  const { grpc } = JSON.parse(first.value) as { grpc: string };
  return {
    grpc,
    kill: () => child.kill('SIGKILL'),
    close: async () => {
      child.stdin.write('close\n');
      let timer: NodeJS.Timeout | undefined;
      const timeout = new Promise<'hung'>((resolve) => (timer = setTimeout(() => resolve('hung'), 15_000)));
      const result = await Promise.race([exited, timeout]);
      clearTimeout(timer);
      if (result === 'hung') {
        child.kill('SIGKILL');
        throw new Error(`the coordinator did not exit after close(): handles left open ${stderr.join('')}`);
      }
      const rest: string[] = [];
      for (;;) {
        const l = await lines.next();
        if (l.done === true) break;
        rest.push(l.value);
      }
      assert.deepEqual(rest, ['closed'], stderr.join(''));
      return result;
    },
  };
}

function unary<Req, Res>(client: CoordinatorClient, method: 'GetInfo' | 'ListAgents', request: Req): Promise<Res> {
  return new Promise((resolve, reject) => {
    const fn = client[method].bind(client) as unknown as (r: Req, cb: (e: Error | null, r?: Res) => void) => void;
    fn(request, (e, r) => (e !== null || r === undefined ? reject(e ?? new Error('no reply')) : resolve(r)));
  });
}

async function natsCall<T>(nc: NatsConnection, subject: string, type: string, body: Record<string, unknown>, replyType: string, timeout = 5000): Promise<T> {
  const msg = await nc.request(subject, encodeMessage(type, body), { timeout });
  const code = msg.headers?.get('farm-error-code');
  if (code !== undefined && code !== '') throw new Error(`${code}: ${msg.headers?.get('farm-error-message')}`);
  return decodeMessage<T>(replyType, msg.data);
}

test('startCoordinator serves gRPC and agents over NATS, and close() leaves nothing running', async () => {
  const nats = await startNatsServer();
  const dir = await makeTempDir('farm-coordinator-');
  let coordinator: Awaited<ReturnType<typeof spawnCoordinator>> | undefined;
  let client: CoordinatorClient | undefined;
  let agent: NatsConnection | undefined;
  try {
    coordinator = await spawnCoordinator({ stateDir: dir.path, nats: { servers: [nats.url] }, leaseMs: '15s', heartbeatMs: '3s' });
    assert.match(coordinator.grpc, /^127\.0\.0\.1:\d+$/);
    client = createCoordinatorClient(coordinator.grpc);
    const info = await unary<object, GetInfoResponse__Output>(client, 'GetInfo', {});
    assert.equal(typeof info.version, 'string');

    agent = await connect({ servers: nats.url, name: 'fake-agent' });
    const capabilities = { systems: ['x86_64-linux', 'aarch64-linux'], supportedFeatures: ['big-parallel'], mandatoryFeatures: [], maxJobs: 2, speedFactor: 1 };
    const welcome = await natsCall<AgentWelcome__Output>(
      agent,
      SUBJECTS.register,
      'AgentHello',
      { name: 'fake-agent-1', host: 'fake-host', capabilities, version: 'test', running: [] },
      'AgentWelcome',
    );
    assert.deepEqual(welcome, { agentId: 'fake-agent-1', leaseMs: '15000', heartbeatMs: '3000' });
    const ack = await natsCall<HeartbeatAck__Output>(agent, SUBJECTS.heartbeat, 'Heartbeat', { agentId: 'fake-agent-1', leases: [], freeSlots: 2, draining: false }, 'HeartbeatAck');
    assert.deepEqual(ack.renewed, []);
    assert.deepEqual(ack.revoked, []);
    const work = await natsCall<WorkReply__Output>(agent, SUBJECTS.workRequest, 'WorkRequest', { agentId: 'fake-agent-1', freeSlots: 2, waitMs: '300' }, 'WorkReply');
    assert.deepEqual(work.assignments, [], 'nothing submitted: the long poll ends empty after waitMs');

    const agents = await unary<object, { agents: AgentInfo__Output[] }>(client, 'ListAgents', {});
    const listed = agents.agents.find((a) => a.agentId === 'fake-agent-1');
    assert.ok(listed, `fake agent listed: ${JSON.stringify(agents)}`);
    assert.equal(listed.host, 'fake-host');
    assert.deepEqual(listed.capabilities?.systems, ['x86_64-linux', 'aarch64-linux']);

    client.close();
    client = undefined;
    assert.equal(await coordinator.close(), 0, 'exits by itself, cleanly, after close()');
    coordinator = undefined;
  } finally {
    client?.close();
    coordinator?.kill();
    await agent?.close();
    await nats.stop();
    await dir.remove();
  }
});

test('close() is idempotent, and a start that cannot reach NATS fails with UNAVAILABLE and frees the state dir', async () => {
  const nats = await startNatsServer();
  const dir = await makeTempDir('farm-coordinator-');
  try {
    const config = compileCoordinatorConfig({ stateDir: dir.path, nats: { servers: [nats.url] } });
    const first = await startCoordinator(config, { logger: silentLogger() });
    await Promise.all([first.close(), first.close()]);
    await first.close();

    const nowhere = `nats://127.0.0.1:${await freePort()}`;
    await assert.rejects(
      startCoordinator({ ...config, nats: { servers: [nowhere] } }, { logger: silentLogger() }),
      (e: unknown) => e instanceof FarmError && e.code === 'UNAVAILABLE' && e.message.includes(nowhere),
    );

    // Everything the failed start opened was closed: the same state dir opens again.
    const again = await startCoordinator(config, { logger: silentLogger() });
    await again.close();
  } finally {
    await nats.stop();
    await dir.remove();
  }
});
