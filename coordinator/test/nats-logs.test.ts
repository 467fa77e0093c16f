/**
 * The JetStream log source against a real nats-server: a non-follow read returns the whole
 * history in order and ends (ignoring chunks published after it began); a follow read also
 * yields chunks published later and ends when its signal aborts.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { silentLogger } from '@farm/common';
import { encodeMessage, SUBJECTS, type LogChunk__Output } from '@farm/proto';
import { startNatsServer } from '@farm/testkit';
import { jetstream, jetstreamManager, type JetStreamClient } from '@nats-io/jetstream';
import { connect, type NatsConnection } from '@nats-io/transport-node';
import { ensureFarmStreams, JetStreamLogSource } from '../src/index.js';

const JOB = 'a'.repeat(32);
const OTHER = 'b'.repeat(32);

function chunk(job: string, seq: number, eof = false): Uint8Array {
  return encodeMessage('LogChunk', { jobId: job, epoch: '1', seq: String(seq), data: Buffer.from(`line ${seq}\n`), truncated: false, eof });
}

async function publishChunks(js: JetStreamClient, job: string, from: number, count: number): Promise<void> {
  const batch = 500;
  for (let start = from; start < from + count; start += batch) {
    const n = Math.min(batch, from + count - start);
    await Promise.all(Array.from({ length: n }, (_, i) => js.publish(SUBJECTS.logs(job), chunk(job, start + i))));
  }
}

async function withLogs(fn: (ctx: { js: JetStreamClient; logs: JetStreamLogSource }) => Promise<void>): Promise<void> {
  const nats = await startNatsServer();
  let nc: NatsConnection | undefined;
  try {
    nc = await connect({ servers: nats.url });
    const jsm = await jetstreamManager(nc);
    await ensureFarmStreams(jsm);
    const js = jetstream(nc);
    await fn({ js, logs: new JetStreamLogSource(js, jsm, silentLogger()) });
  } finally {
    await nc?.close();
    await nats.stop();
  }
}

test('a non-follow read returns all 10,000 chunks in order and ends at what was stored when it began', async () => {
  await withLogs(async ({ js, logs }) => {
    await publishChunks(js, JOB, 0, 5000);
    await publishChunks(js, OTHER, 0, 10);
    await publishChunks(js, JOB, 5000, 5000);

    const got: LogChunk__Output[] = [];
    let publishedLate = false;
    for await (const c of logs.read(JOB, { follow: false, signal: new AbortController().signal })) {
      got.push(c);
      if (!publishedLate) {
        publishedLate = true;
        await publishChunks(js, JOB, 10_000, 5); // after the read began: not part of it
      }
    }
    assert.equal(got.length, 10_000);
    const wrong = got.findIndex((c, i) => c.jobId !== JOB || c.seq !== String(i) || c.data.toString() !== `line ${i}\n`);
    assert.equal(wrong, -1, `in order, this job only (first wrong: ${JSON.stringify(got[wrong])})`);
    assert.deepEqual(got[9999], { jobId: JOB, epoch: '1', seq: '9999', data: Buffer.from('line 9999\n'), truncated: false, eof: false });

    const empty: LogChunk__Output[] = [];
    for await (const c of logs.read('c'.repeat(32), { follow: false, signal: new AbortController().signal })) empty.push(c);
    assert.deepEqual(empty, [], 'a job without chunks has an empty log');
  });
});

test('a follow read yields history then live chunks and ends when aborted', async () => {
  await withLogs(async ({ js, logs }) => {
    await publishChunks(js, JOB, 0, 3);
    const controller = new AbortController();
    const got: LogChunk__Output[] = [];
    const reading = (async () => {
      for await (const c of logs.read(JOB, { follow: true, signal: controller.signal })) {
        got.push(c);
        if (got.length === 3) await publishChunks(js, JOB, 3, 2); // live, after the history
        if (got.length === 5) await js.publish(SUBJECTS.logs(JOB), chunk(JOB, 5, true));
        if (c.eof) controller.abort();
      }
    })();
    await reading;
    assert.deepEqual(got.map((c) => Number(c.seq)), [0, 1, 2, 3, 4, 5]);
    assert.equal(got[5]?.eof, true);

    const aborted = new AbortController();
    aborted.abort();
    const none: LogChunk__Output[] = [];
    for await (const c of logs.read(JOB, { follow: true, signal: aborted.signal })) none.push(c);
    assert.deepEqual(none, [], 'an already aborted read yields nothing');
  });
});

test('a follow read on a job with no chunks yet waits for the first one', async () => {
  await withLogs(async ({ js, logs }) => {
    const controller = new AbortController();
    const got: string[] = [];
    const reading = (async () => {
      for await (const c of logs.read(JOB, { follow: true, signal: controller.signal })) {
        got.push(c.seq);
        controller.abort();
      }
    })();
    await new Promise((r) => setTimeout(r, 200));
    await js.publish(SUBJECTS.logs(JOB), chunk(JOB, 0));
    await reading;
    assert.deepEqual(got, ['0']);
  });
});
