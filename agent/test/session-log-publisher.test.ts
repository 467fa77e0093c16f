/**
 * LogPublisher: chunking (≤ 64 KiB, seq from 0, eof last), the 100 ms flush while output flows,
 * truncation at maxLogBytes, strict order across retried publishes (same msg id on a retry),
 * and publishing into a stream that only appears later (real nats-server).
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { decodeMessage, STREAMS, SUBJECTS, type LogChunk__Output } from '@farm/proto';
import { jetstream, jetstreamManager, StorageType } from '@nats-io/jetstream';
import { connect } from '@nats-io/transport-node';
import { startNatsServer } from '@farm/testkit';
import { LogPublisher, type JsPublish } from '../src/index.js';

interface Sent {
  readonly subject: string;
  readonly msgID: string;
  readonly chunk: LogChunk__Output;
}

function memoryPublish(fail: (attemptNo: number, chunk: LogChunk__Output) => boolean = () => false): JsPublish & { sent: Sent[]; attempts: Sent[] } {
  const sent: Sent[] = [];
  const attempts: Sent[] = [];
  const publish: JsPublish = async (subject, data, { msgID }) => {
    const chunk = decodeMessage<LogChunk__Output>('LogChunk', data);
    attempts.push({ subject, msgID, chunk });
    await new Promise((r) => setImmediate(r));
    if (fail(attempts.length, chunk)) throw new Error('stream unavailable');
    sent.push({ subject, msgID, chunk });
  };
  return Object.assign(publish, { sent, attempts });
}

async function until(what: string, p: () => boolean): Promise<void> {
  for (let i = 0; i < 600; i++) {
    if (p()) return;
    await new Promise((r) => setTimeout(r, 50));
  }
  assert.fail(`timed out waiting for ${what}`);
}

test('bytes become ≤ 64 KiB chunks numbered from 0, in order, with eof on the last', async () => {
  const publish = memoryPublish();
  const logs = new LogPublisher({ jobId: 'job1', epoch: '3', publish });
  const data = Buffer.alloc(200 * 1024);
  for (let i = 0; i < data.length; i++) data[i] = 97 + (i % 26);
  for (let off = 0; off < data.length; off += 1000) logs.write(data.subarray(off, off + 1000));
  await logs.finish();
  const chunks = publish.sent.map((s) => s.chunk);
  assert.deepEqual(chunks.map((c) => c.seq), chunks.map((_, i) => String(i)));
  assert.ok(chunks.every((c) => c.data.length <= 64 * 1024 && c.jobId === 'job1' && c.epoch === '3'));
  assert.deepEqual(chunks.map((c) => c.eof), chunks.map((_, i) => i === chunks.length - 1));
  assert.ok(Buffer.concat(chunks.map((c) => c.data)).equals(data));
  assert.ok(publish.sent.every((s) => s.subject === SUBJECTS.logs('job1')));
  assert.deepEqual(publish.sent.map((s) => s.msgID), chunks.map((c) => `job1:3:log:${c.seq}`));
});

test('a little output is flushed by the timer without waiting for more or for the end', async () => {
  const publish = memoryPublish();
  const logs = new LogPublisher({ jobId: 'job2', epoch: '1', publish });
  logs.write(Buffer.from('first line\n'));
  await until('the timed flush', () => publish.sent.length === 1);
  assert.equal(publish.sent[0]!.chunk.data.toString(), 'first line\n');
  assert.equal(publish.sent[0]!.chunk.eof, false);
  logs.write(Buffer.from('second line\n'));
  await until('the second flush', () => publish.sent.length === 2);
  await logs.finish();
  assert.deepEqual(publish.sent.map((s) => [s.chunk.seq, s.chunk.data.toString(), s.chunk.eof]), [
    ['0', 'first line\n', false],
    ['1', 'second line\n', false],
    ['2', '', true],
  ]);
});

test('an empty log is one empty eof chunk', async () => {
  const publish = memoryPublish();
  const logs = new LogPublisher({ jobId: 'job3', epoch: '1', publish });
  await logs.finish();
  await logs.finish(); // idempotent
  assert.deepEqual(publish.sent.map((s) => [s.chunk.seq, s.chunk.data.length, s.chunk.eof]), [['0', 0, true]]);
});

test('the chunk reaching maxLogBytes is cut there and marked truncated; later bytes are dropped', async () => {
  const publish = memoryPublish();
  const logs = new LogPublisher({ jobId: 'job4', epoch: '1', publish, maxLogBytes: 150_000 });
  for (let i = 0; i < 40; i++) logs.write(Buffer.alloc(5000, 0x61 + (i % 26)));
  await logs.finish();
  const chunks = publish.sent.map((s) => s.chunk);
  assert.equal(Buffer.concat(chunks.map((c) => c.data)).length, 150_000);
  assert.equal(logs.bytes, 150_000);
  const t = chunks.findIndex((c) => c.truncated);
  assert.ok(t >= 0);
  assert.equal(chunks.filter((c) => c.truncated).length, 1);
  assert.ok(chunks.slice(t + 1).every((c) => c.data.length === 0));
  assert.equal(chunks.at(-1)!.eof, true);
  assert.ok(chunks.every((c) => c.data.length <= 64 * 1024));
});

test('failed publishes are retried in place: order is kept and a retry reuses the msg id', async () => {
  // Every third attempt fails.
  const publish = memoryPublish((n) => n % 3 === 0);
  const errors: number[] = [];
  const logs = new LogPublisher({ jobId: 'job5', epoch: '2', publish, onPublishError: (_e, seq) => errors.push(seq) });
  const data = Buffer.alloc(640 * 1024, 0x7a);
  for (let off = 0; off < data.length; off += 4096) logs.write(data.subarray(off, off + 4096));
  await logs.finish();
  assert.ok(errors.length > 0);
  const chunks = publish.sent.map((s) => s.chunk);
  assert.deepEqual(chunks.map((c) => c.seq), chunks.map((_, i) => String(i)));
  assert.equal(Buffer.concat(chunks.map((c) => c.data)).length, data.length);
  for (const seq of errors) assert.ok(publish.attempts.filter((a) => a.chunk.seq === String(seq)).every((a) => a.msgID === `job5:2:log:${seq}`));
  assert.equal(logs.droppedChunks, 0);
});

test('after stopRetrying aborts, each chunk gets one try and finish() still resolves', async () => {
  const publish = memoryPublish(() => true);
  const stop = new AbortController();
  stop.abort();
  const logs = new LogPublisher({ jobId: 'job6', epoch: '1', publish, stopRetrying: stop.signal });
  logs.write(Buffer.from('lost\n'));
  await logs.finish();
  assert.equal(publish.sent.length, 0);
  assert.equal(publish.attempts.length, 1);
  assert.equal(logs.droppedChunks, 1);
});

test('publishing waits out a FARM_LOGS stream that does not exist yet (real JetStream)', async () => {
  const nats = await startNatsServer();
  const nc = await connect({ servers: nats.url });
  try {
    const js = jetstream(nc);
    let failures = 0;
    const logs = new LogPublisher({
      jobId: 'job7',
      epoch: '1',
      publish: (s, d, o) => js.publish(s, d, { ...o, timeout: 1000 }),
      onPublishError: () => failures++,
    });
    for (let i = 0; i < 1000; i++) logs.write(Buffer.from(`line ${i}\n`));
    await until('publishing to fail for lack of a stream', () => failures >= 2);
    const jsm = await jetstreamManager(nc);
    await jsm.streams.add({ name: STREAMS.logs.name, subjects: [...STREAMS.logs.subjects], storage: StorageType.File });
    for (let i = 1000; i < 2000; i++) logs.write(Buffer.from(`line ${i}\n`));
    await logs.finish();
    const consumer = await js.consumers.get(STREAMS.logs.name);
    const chunks: LogChunk__Output[] = [];
    const messages = await consumer.consume();
    for await (const m of messages) {
      chunks.push(decodeMessage<LogChunk__Output>('LogChunk', m.data));
      if (chunks.at(-1)!.eof) break;
    }
    await messages.close();
    assert.deepEqual(chunks.map((c) => c.seq), chunks.map((_, i) => String(i)));
    const lines = Buffer.concat(chunks.map((c) => c.data)).toString().split('\n');
    assert.equal(lines.pop(), '');
    assert.deepEqual(lines, Array.from({ length: 2000 }, (_, i) => `line ${i}`));
  } finally {
    await nc.close();
    await nats.stop();
  }
});
