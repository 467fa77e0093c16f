/**
 * Stream handling without a coordinator: build log lines (UTF-8 split across chunks, partial
 * last lines, retries that replay history, truncation), Watch reconnects from the next sequence,
 * and the streamed export format against @farm/nix's writeExportStream.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { FarmError } from '@farm/common';
import { WireWriter, writeExportStream } from '@farm/nix';
import type { LogChunk__Output, LogsRequest, SubmissionEvent__Output } from '@farm/proto';
import { BuildLogFollower, LineSplitter, type LogJob } from '../src/client/build-logs.js';
import { EXPORT_END, exportHead, exportTrailer } from '../src/client/export-writer.js';
import { followSubmission } from '../src/client/watch.js';

const chunk = (epoch: number, seq: number, data: string | Buffer, extra: Partial<LogChunk__Output> = {}): LogChunk__Output => ({
  jobId: 'j',
  epoch: String(epoch),
  seq: String(seq),
  data: Buffer.isBuffer(data) ? data : Buffer.from(data),
  truncated: false,
  eof: false,
  ...extra,
});

test('lines: split across chunks, multi-byte characters split across chunks, CRLF, a last line without newline', () => {
  const s = new LineSplitter();
  const euro = Buffer.from('€');
  assert.deepEqual(s.push(Buffer.from('one\ntw')), ['one']);
  assert.deepEqual(s.push(Buffer.concat([Buffer.from('o '), euro.subarray(0, 1)])), []);
  assert.deepEqual(s.push(Buffer.concat([euro.subarray(1), Buffer.from('\r\nthree')])), ['two €']);
  assert.deepEqual(s.flush(), ['three']);
  assert.deepEqual(s.flush(), []);
});

test('build logs: one follower per running job, history of earlier attempts skipped on a retry, notices for attempts and truncation', async () => {
  const job: LogJob = { jobId: 'j', drvPath: '/nix/store/x-top.drv', name: 'top' };
  const firstAttempt = [chunk(1, 0, 'compiling\nlinki'), chunk(1, 1, 'ng\n'), chunk(1, 2, 'oops', { eof: true })];
  const secondAttempt = [chunk(3, 0, 'again\n'), chunk(3, 1, 'x'.repeat(3), { truncated: true }), chunk(3, 2, '', { eof: true })];
  let served = firstAttempt;
  const requests: LogsRequest[] = [];
  const api = {
    async *logs(req: LogsRequest) {
      requests.push(req);
      yield* served;
    },
  };
  const out: string[] = [];
  const f = new BuildLogFollower(api, { line: (j, l) => out.push(`${j.name}> ${l}`), notice: (j, t) => out.push(`${j.name}: ${t}`) });
  f.jobRunning(job);
  f.jobRunning(job); // already following: no second call
  await f.drain(1000);
  served = [...firstAttempt, ...secondAttempt];
  f.jobRunning(job);
  await f.drain(1000);
  assert.deepEqual(requests, [
    { jobId: 'j', follow: true },
    { jobId: 'j', follow: true },
  ]);
  assert.deepEqual(out, ['top> compiling', 'top> linking', 'top> oops', 'top: --- attempt 2 ---', 'top> again', "top: (log truncated: the farm's log limit was reached)", 'top> xxx']);
  assert.equal(f.activeCount, 0);
});

test('build logs: a retry seen while the follower is still on the earlier attempt is followed too', async () => {
  const job: LogJob = { jobId: 'j', drvPath: '', name: 'n' };
  let release!: () => void;
  const gate = new Promise<void>((r) => (release = r));
  const requests: number[] = [];
  const api = {
    async *logs() {
      requests.push(1);
      yield chunk(1, 0, 'one\n');
      await gate;
      yield chunk(1, 1, '', { eof: true });
      yield chunk(2, 0, 'two\n', { eof: true });
      yield chunk(3, 0, 'never shown: no third run was seen\n', { eof: true });
    },
  };
  const out: string[] = [];
  const f = new BuildLogFollower(api, { line: (_j, l) => out.push(l), notice: (_j, t) => out.push(t) });
  f.jobRunning(job);
  await new Promise((r) => setTimeout(r, 10));
  f.jobRunning(job); // the retry starts while the first attempt's eof has not arrived yet
  release();
  await f.drain(1000);
  assert.deepEqual(out, ['one', '--- attempt 2 ---', 'two']);
  assert.equal(requests.length, 1);
});

test('build logs: drain cancels a follower whose log never ends', async () => {
  let aborted = false;
  const api = {
    logs(_req: LogsRequest, signal?: AbortSignal) {
      return (async function* () {
        yield chunk(1, 0, 'started\n');
        await new Promise<void>((resolve) => signal!.addEventListener('abort', () => resolve(), { once: true }));
        aborted = true;
      })();
    },
  };
  const out: string[] = [];
  const f = new BuildLogFollower(api, { line: (_j, l) => out.push(l), notice: () => undefined });
  f.jobRunning({ jobId: 'j', drvPath: '', name: 'n' });
  await f.drain(50);
  assert.ok(aborted);
  assert.deepEqual(out, ['started']);
});

function event(seq: number, final = false): SubmissionEvent__Output {
  return { sequence: String(seq), submissionId: 's', jobId: final ? '' : `j${seq}`, drvPath: '', state: 'JOB_STATE_READY', agentId: '', reason: '', timeMs: '0', outputs: {}, final };
}

test('watch: a stream that breaks or ends early is reopened from the next sequence; nothing is shown twice', async () => {
  const calls: number[] = [];
  const all = [1, 2, 3, 4, 5].map((n) => event(n, n === 5));
  const script = [
    (from: number) => ({ events: all.filter((e) => Number(e.sequence) >= from).slice(0, 2), error: new FarmError('UNAVAILABLE', 'connection reset') }),
    (from: number) => ({ events: [all[1]!, ...all.filter((e) => Number(e.sequence) >= from).slice(0, 1)], error: undefined }),
    (from: number) => ({ events: all.filter((e) => Number(e.sequence) >= from), error: undefined }),
  ];
  const api = {
    async *watch(_id: string, from = 0) {
      calls.push(from);
      const step = script[calls.length - 1]!(from);
      yield* step.events;
      if (step.error !== undefined) throw step.error;
    },
  };
  const reconnects: number[] = [];
  const seen: number[] = [];
  for await (const e of followSubmission(api, 's', { sleep: async () => undefined, onReconnect: (n) => reconnects.push(n) })) seen.push(Number(e.sequence));
  assert.deepEqual(seen, [1, 2, 3, 4, 5]);
  assert.deepEqual(calls, [0, 3, 4]);
  assert.deepEqual(reconnects, [1, 1]);
});

test('watch: answers such as NOT_FOUND are not retried; endless failures give up', async () => {
  const notFound = {
    // eslint-disable-next-line require-yield
    async *watch(): AsyncGenerator<SubmissionEvent__Output> {
      throw new FarmError('NOT_FOUND', 'no submission s');
    },
  };
  await assert.rejects(async () => {
    for await (const _ of followSubmission(notFound, 's', { sleep: async () => undefined })) void _;
  }, /no submission s/);
  let n = 0;
  const down = {
    // eslint-disable-next-line require-yield
    async *watch(): AsyncGenerator<SubmissionEvent__Output> {
      n++;
      throw new FarmError('UNAVAILABLE', 'down');
    },
  };
  await assert.rejects(async () => {
    for await (const _ of followSubmission(down, 's', { sleep: async () => undefined, maxRetries: 3 })) void _;
  }, /down/);
  assert.equal(n, 4);
});

test('the streamed export format is byte-identical to writeExportStream', () => {
  const paths = [
    { nar: Buffer.from('nar one bytes'), path: '/nix/store/aaaa0000aaaa0000aaaa0000aaaa0000-a', references: [], deriver: '' },
    {
      nar: Buffer.from('second nar, longer'),
      path: '/nix/store/bbbb0000bbbb0000bbbb0000bbbb0000-b',
      references: ['/nix/store/bbbb0000bbbb0000bbbb0000bbbb0000-b', '/nix/store/aaaa0000aaaa0000aaaa0000aaaa0000-a'],
      deriver: '/nix/store/cccc0000cccc0000cccc0000cccc0000-b.drv',
    },
  ];
  const w = new WireWriter();
  writeExportStream(w, paths);
  const streamed = Buffer.concat([...paths.flatMap((p) => [exportHead(), p.nar, exportTrailer(p.path, p.references, p.deriver)]), EXPORT_END]);
  assert.deepEqual(streamed, Buffer.from(w.toBytes()));
});
