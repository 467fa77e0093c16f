/**
 * The results consumer against a real nats-server: every result published (with its msg id) is
 * applied once and acked, refused and malformed ones are acked too, transient failures are
 * retried; the durable consumer hands a restarted coordinator what was published while it was
 * down; and consumption resumes by itself after nats-server restarts.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { FarmError, silentLogger } from '@farm/common';
import {
  encodeMessage,
  resultMessageId,
  STREAMS,
  SUBJECTS,
  type AgentWelcome,
  type BuildResult__Output,
  type HeartbeatAck,
  type WorkReply,
} from '@farm/proto';
import { startNatsServer, type NatsServer } from '@farm/testkit';
import { jetstream, jetstreamManager, type JetStreamClient, type JetStreamManager } from '@nats-io/jetstream';
import { connect, type NatsConnection } from '@nats-io/transport-node';
import { ensureFarmStreams, RESULTS_CONSUMER_NAME, startResultsConsumer, type AgentApi, type ApplyResultOutcome, type ResultsConsumer } from '../src/index.js';

class RecordingApi implements AgentApi {
  readonly applied: string[] = [];
  readonly attempts = new Map<string, number>();
  /** Keys that throw UNAVAILABLE this many more times before they apply. */
  readonly transient = new Map<string, number>();
  readonly refuse = new Set<string>();
  readonly tails: unknown[] = [];

  async applyResult(result: BuildResult__Output): Promise<ApplyResultOutcome> {
    const key = `${result.lease?.jobId}:${result.lease?.epoch}`;
    this.attempts.set(key, (this.attempts.get(key) ?? 0) + 1);
    this.tails.push(result.logTail);
    const left = this.transient.get(key) ?? 0;
    if (left > 0) {
      this.transient.set(key, left - 1);
      throw new FarmError('UNAVAILABLE', 'store busy');
    }
    if (this.refuse.has(key)) return { accepted: false, reason: 'stale epoch' };
    this.applied.push(key);
    return { accepted: true };
  }
  register(): Promise<AgentWelcome> {
    throw new Error('not used');
  }
  heartbeat(): Promise<HeartbeatAck> {
    throw new Error('not used');
  }
  requestWork(): Promise<WorkReply> {
    throw new Error('not used');
  }
  onRevoke(): () => void {
    return () => undefined;
  }
}

const jobId = (n: number) => n.toString(16).padStart(32, '0');

function resultBytes(job: string, epoch: number): Uint8Array {
  return encodeMessage('BuildResult', {
    lease: { jobId: job, epoch: String(epoch) },
    agentId: 'agent-1',
    status: 'BUILD_STATUS_BUILT',
    message: '',
    outputs: [],
    logTail: Buffer.from('done\n'),
    startMs: '1700000000000',
    stopMs: '1700000001000',
  });
}

async function publishResult(js: JetStreamClient, job: string, epoch: number): Promise<boolean> {
  const ack = await js.publish(SUBJECTS.results('agent-1'), resultBytes(job, epoch), { msgID: resultMessageId(job, epoch) });
  return ack.duplicate;
}

async function eventually<T>(probe: () => T | Promise<T>, what: string, timeoutMs = 15_000): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  let last: unknown;
  for (;;) {
    try {
      return await probe();
    } catch (e) {
      last = e;
    }
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}: ${(last as Error)?.message}`);
    await new Promise((r) => setTimeout(r, 25));
  }
}

async function allAcked(jsm: JetStreamManager, lastSeq: number): Promise<void> {
  const info = await jsm.consumers.info(STREAMS.results.name, RESULTS_CONSUMER_NAME);
  assert.equal(info.num_pending, 0, 'nothing left to deliver');
  assert.equal(info.num_ack_pending, 0, `nothing awaiting an ack: ${JSON.stringify({ floor: info.ack_floor, delivered: info.delivered, redelivered: info.num_redelivered })}`);
  assert.equal(info.ack_floor.stream_seq, lastSeq, 'acked up to the last message');
}

interface Ctx {
  nats: NatsServer;
  nc: NatsConnection;
  js: JetStreamClient;
  jsm: JetStreamManager;
  api: RecordingApi;
  start(): Promise<ResultsConsumer>;
}

async function withResults(fn: (ctx: Ctx) => Promise<void>): Promise<void> {
  const nats = await startNatsServer();
  const consumers: ResultsConsumer[] = [];
  let nc: NatsConnection | undefined;
  try {
    nc = await connect({ servers: nats.url, maxReconnectAttempts: -1, reconnectTimeWait: 100 });
    const jsm = await jetstreamManager(nc);
    await ensureFarmStreams(jsm);
    const js = jetstream(nc);
    const api = new RecordingApi();
    const conn = nc;
    const start = async () => {
      const c = await startResultsConsumer({ js: jetstream(conn), jsm, api, logger: silentLogger(), nakDelayMs: () => 50, retryPauseMs: 100 });
      consumers.push(c);
      return c;
    };
    await fn({ nats, nc, js, jsm, api, start });
  } finally {
    for (const c of consumers) await c.close();
    await nc?.close();
    await nats.stop();
  }
}

test('each result is applied once and acked: duplicates, refusals, malformed bytes and transient failures', async () => {
  await withResults(async ({ nc, js, jsm, api, start }) => {
    api.transient.set(`${jobId(3)}:1`, 2);
    api.refuse.add(`${jobId(4)}:1`);
    await start();
    for (let i = 1; i <= 5; i++) assert.equal(await publishResult(js, jobId(i), 1), false);
    assert.equal(await publishResult(js, jobId(2), 1), true, 'same msg id: dropped by JetStream');
    await js.publish(SUBJECTS.results('agent-1'), new Uint8Array([0xff, 0xff, 0xff]));
    const last = await js.publish(SUBJECTS.results('agent-1'), resultBytes(jobId(6), 2), { msgID: resultMessageId(jobId(6), 2) });

    await eventually(() => allAcked(jsm, last.seq), 'every message acked');
    assert.deepEqual([...api.applied].sort(), [1, 2, 3, 5].map((i) => `${jobId(i)}:1`).concat(`${jobId(6)}:2`).sort());
    assert.equal(api.attempts.get(`${jobId(3)}:1`), 3, 'retried after two transient failures');
    assert.equal(api.attempts.get(`${jobId(4)}:1`), 1, 'refused once, acked, not redelivered');
    assert.equal(api.attempts.get(`${jobId(2)}:1`), 1, 'the duplicate publish was never delivered');
    assert.ok(api.tails.every((t) => Buffer.isBuffer(t) && t.toString() === 'done\n'), 'bytes fields decode as Buffers');
    assert.ok(!nc.isClosed());
  });
});

test('the durable consumer delivers what was published while the coordinator was down', async () => {
  await withResults(async ({ js, jsm, api, start }) => {
    const first = await start();
    await publishResult(js, jobId(1), 1);
    await eventually(() => assert.deepEqual(api.applied, [`${jobId(1)}:1`]), 'first result');
    await first.close();

    await publishResult(js, jobId(2), 1);
    const last = await js.publish(SUBJECTS.results('agent-1'), resultBytes(jobId(3), 1), { msgID: resultMessageId(jobId(3), 1) });
    await new Promise((r) => setTimeout(r, 200));
    assert.equal(api.applied.length, 1, 'nothing applied while down');

    await start();
    await eventually(() => allAcked(jsm, last.seq), 'caught up');
    assert.deepEqual(api.applied, [1, 2, 3].map((i) => `${jobId(i)}:1`), 'in order, the old one not again');
  });
});

test('consumption resumes after nats-server restarts', async () => {
  await withResults(async ({ nats, nc, js, jsm, api, start }) => {
    await start();
    await publishResult(js, jobId(1), 1);
    await eventually(() => assert.equal(api.applied.length, 1), 'before restart');

    await nats.restart();
    // The publisher reconnects too; retry until the stream answers again.
    const last = await eventually(
      () => js.publish(SUBJECTS.results('agent-1'), resultBytes(jobId(2), 1), { msgID: resultMessageId(jobId(2), 1), timeout: 1000 }),
      'publish after restart',
    );
    await publishResult(js, jobId(3), 1);
    await eventually(() => assert.ok(api.applied.includes(`${jobId(3)}:1`) && api.applied.includes(`${jobId(2)}:1`)), 'applied after restart', 30_000);
    assert.ok(last.seq >= 2);
    assert.ok(!nc.isClosed());
    const final = await jsm.streams.info(STREAMS.results.name);
    await eventually(() => allAcked(jsm, final.state.last_seq), 'acked after restart');
    assert.deepEqual([...new Set(api.applied)].sort(), [1, 2, 3].map((i) => `${jobId(i)}:1`));
  });
});

test('a second ensureFarmStreams is a no-op and a clashing stream is refused', async () => {
  await withResults(async ({ jsm }) => {
    await ensureFarmStreams(jsm);
    const info = await jsm.streams.info(STREAMS.logs.name);
    assert.equal(info.config.max_bytes, 8 * 1024 * 1024 * 1024);
    assert.equal(info.config.storage, 'file');
    assert.equal(info.config.discard, 'old');
    assert.equal(info.config.max_age, 7 * 24 * 3600 * 1e9);
    await jsm.streams.update(STREAMS.logs.name, { max_age: 1e9 * 3600 });
    await ensureFarmStreams(jsm);
    assert.equal((await jsm.streams.info(STREAMS.logs.name)).config.max_age, 7 * 24 * 3600 * 1e9, 'limits restored');
    await jsm.streams.delete(STREAMS.logs.name);
    await jsm.streams.add({ name: STREAMS.logs.name, subjects: ['other.>'] });
    await assert.rejects(ensureFarmStreams(jsm), (e: unknown) => e instanceof FarmError && e.code === 'FAILED_PRECONDITION' && /other\.>/.test(e.message));
  });
});
