/**
 * The dashboard's routes on a real ops endpoint over a real coordinator minus NATS (farm store,
 * LMDB state, FarmService, an in-memory LogSource): the overview's JSON (submissions with DAG
 * progress, running jobs, the queue with exactly `farm explain`'s first line, agents with their
 * load), the live `overview` events, one submission's jobs, a job's log as server-sent events
 * (UTF-8 split across chunks, the end after the attempt, problems in-band), the page and its
 * assets with their content types, and no way out of the asset directories.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { request, type IncomingMessage } from 'node:http';
import { connect } from 'node:net';
import { isFarmError, silentLogger, systemClock } from '@farm/common';
import { compileCoordinatorConfig } from '../src/daemon/config.js';
import { dashboardRoutes } from '../src/adapters/dashboard/dashboard-routes.js';
import type { DashboardLogChunk, DashboardOverview, DashboardSubmissionJobs } from '../src/adapters/dashboard/api-types.js';
import { sseFrame } from '../src/adapters/dashboard/sse.js';
import { OverviewFeed } from '../src/adapters/dashboard/overview-feed.js';
import { traceIdOf, traceLink } from '../src/adapters/dashboard/trace-link.js';
import { submissionView } from '../src/adapters/dashboard/overview.js';
import { CONTENT_SECURITY_POLICY } from '../src/adapters/dashboard/static-assets.js';
import { startOpsServer, type RunningOpsServer } from '../src/adapters/http-ops/ops-server.js';
import type { SubmissionRow } from '../src/service/coordinator-state.js';
import {
  buildAndReport,
  diamondExpression,
  HOST_SYSTEM,
  instantiate,
  registerAgent,
  requestWork,
  submitRoots,
  uploadClosure,
  withFarm,
  type TestFarm,
} from './service-fixtures.js';

interface Reply {
  readonly status: number;
  readonly headers: IncomingMessage['headers'];
  readonly body: string;
}

function get(base: string, path: string, method = 'GET'): Promise<Reply> {
  return new Promise((resolve, reject) => {
    const req = request(`${base}${path}`, { method }, (res) => {
      let body = '';
      res.setEncoding('utf8');
      res.on('data', (c: string) => (body += c));
      res.on('end', () => resolve({ status: res.statusCode ?? 0, headers: res.headers, body }));
    });
    req.on('error', reject);
    req.end();
  });
}

/** A request line sent byte for byte (no client-side normalisation of the path). */
function rawGet(base: string, path: string): Promise<string> {
  const url = new URL(base);
  return new Promise((resolve, reject) => {
    const socket = connect(Number(url.port), url.hostname, () => socket.write(`GET ${path} HTTP/1.1\r\nhost: x\r\nconnection: close\r\n\r\n`));
    let text = '';
    socket.setEncoding('utf8');
    socket.on('data', (d: string) => (text += d));
    socket.on('end', () => resolve(text.split('\r\n')[0] ?? ''));
    socket.on('error', reject);
  });
}

interface SseEvent {
  readonly event: string;
  readonly data: string;
}

/** A server-sent-event client: parses the stream as EventSource would and queues the events. */
class SseClient {
  private readonly events: SseEvent[] = [];
  private readonly waiters = new Set<() => void>();
  private buffer = '';
  ended = false;
  headers: IncomingMessage['headers'] = {};
  status = 0;
  private readonly req;

  constructor(url: string) {
    this.req = request(url, (res) => {
      this.status = res.statusCode ?? 0;
      this.headers = res.headers;
      res.setEncoding('utf8');
      res.on('data', (c: string) => this.feed(c));
      res.on('end', () => this.finish());
      res.on('error', () => this.finish());
    });
    this.req.on('error', () => this.finish());
    this.req.end();
  }

  private finish(): void {
    this.ended = true;
    this.wake();
  }

  private wake(): void {
    for (const w of [...this.waiters]) w();
  }

  private feed(chunk: string): void {
    this.buffer += chunk;
    for (let i = this.buffer.indexOf('\n\n'); i >= 0; i = this.buffer.indexOf('\n\n')) {
      const block = this.buffer.slice(0, i);
      this.buffer = this.buffer.slice(i + 2);
      let event = 'message';
      const data: string[] = [];
      for (const line of block.split('\n')) {
        if (line.startsWith(':') || line.startsWith('retry:')) continue;
        if (line.startsWith('event: ')) event = line.slice(7);
        else if (line.startsWith('data: ')) data.push(line.slice(6));
      }
      if (data.length > 0) this.events.push({ event, data: data.join('\n') });
    }
    this.wake();
  }

  /** The next event (of any name); rejects once the stream has ended without one. */
  async next(): Promise<SseEvent> {
    for (;;) {
      const e = this.events.shift();
      if (e !== undefined) return e;
      if (this.ended) throw new Error('the event stream ended');
      await new Promise<void>((resolve) => {
        const done = () => {
          this.waiters.delete(done);
          resolve();
        };
        this.waiters.add(done);
      });
    }
  }

  /** Events until one satisfies `until` (which is returned). */
  async nextWhere(until: (e: SseEvent) => boolean): Promise<SseEvent> {
    for (;;) {
      const e = await this.next();
      if (until(e)) return e;
    }
  }

  close(): void {
    this.req.destroy();
  }
}

async function withDashboard(fn: (farm: TestFarm, ops: RunningOpsServer) => Promise<void>): Promise<void> {
  await withFarm(async (farm) => {
    const routes = dashboardRoutes({
      service: farm.service,
      state: farm.state,
      store: farm.store,
      logs: farm.logs,
      clock: systemClock,
      logger: silentLogger(),
      logEofGraceMs: 2000,
      minIntervalMs: 10,
      refreshMs: 60_000,
    });
    const ops = await startOpsServer({ routes, logger: silentLogger() }, '127.0.0.1:0');
    try {
      await fn(farm, ops);
    } finally {
      await ops.close();
    }
  });
}

test('overview, live overview events, a submission\'s jobs and a job\'s live log', { timeout: 60_000 }, async () => {
  const drvs = await instantiate(diamondExpression(`dash-${Date.now()}`), ['top']);
  await withDashboard(async (farm, ops) => {
    await uploadClosure(farm.client, [drvs.top!]);
    const sub = await submitRoots(farm, [drvs.top!], { client: 'dash-test' });
    await registerAgent(farm.service, 'agent-1', { maxJobs: 4 });
    const [a] = await requestWork(farm.service, 'agent-1', 1);
    const jobA = a!.lease!.jobId;

    const events = new SseClient(`${ops.url}/api/events`);
    try {
      const first = await events.next();
      assert.equal(events.status, 200);
      assert.match(String(events.headers['content-type']), /^text\/event-stream/);
      assert.equal(first.event, 'overview');
      const o = JSON.parse(first.data) as DashboardOverview;
      // The same through the plain JSON route.
      const plain = JSON.parse((await get(ops.url, '/api/overview')).body) as DashboardOverview;
      assert.deepEqual({ ...plain, nowMs: 0 }, { ...o, nowMs: 0 });

      assert.equal(o.submissionsTotal, 1);
      const s = o.submissions[0]!;
      assert.equal(s.id, sub.submissionId);
      assert.equal(s.client, 'dash-test');
      assert.deepEqual(s.roots, [drvs.top]);
      assert.equal(s.done, false);
      assert.equal(s.outcome, 'running');
      assert.equal(s.traceUrl, undefined, 'no trace URL configured, no link');
      assert.deepEqual(s.progress, { total: 4, succeeded: 0, failed: 0, running: 1, waiting: 3 });
      assert.deepEqual(o.running.map((j) => [j.jobId, j.state, j.agentId]), [[jobA, 'running', 'agent-1']]);
      assert.equal(o.queueTotal, 3);
      assert.equal(o.queue.length, 3);
      for (const q of o.queue) {
        assert.equal(q.state, 'waiting');
        // Exactly the first line `farm explain` prints.
        assert.equal(q.reason, farm.service.explain({ jobId: q.jobId }).summary);
        assert.match(q.reason, /wait/i);
        assert.deepEqual(q.submissions, [sub.submissionId]);
      }
      assert.deepEqual(o.agents.map((x) => [x.name, x.systems, x.maxJobs, x.running, x.freeSlots, x.draining]), [['agent-1', [HOST_SYSTEM], 4, 1, 3, false]]);
      assert.ok(o.agents[0]!.lastHeartbeatMs > 0);

      // The log of the running job: history and live chunks, a character split between two chunks.
      const log = new SseClient(`${ops.url}/api/jobs/${jobA}/log`);
      const e = Buffer.from('héllo\n');
      // MemoryLogSource takes strings; Buffer.from accepts a Buffer as well, which is what this needs.
      farm.logs.append({ jobId: jobA, epoch: 1, seq: 0, data: e.subarray(0, 2) as unknown as string });
      const c0 = JSON.parse((await log.nextWhere((x) => x.event === 'chunk')).data) as DashboardLogChunk;
      farm.logs.append({ jobId: jobA, epoch: 1, seq: 1, data: e.subarray(2) as unknown as string });
      farm.logs.append({ jobId: jobA, epoch: 1, seq: 2, data: 'line 1\nline 2\n' });
      const c1 = JSON.parse((await log.nextWhere((x) => x.event === 'chunk')).data) as DashboardLogChunk;
      const c2 = JSON.parse((await log.nextWhere((x) => x.event === 'chunk')).data) as DashboardLogChunk;
      assert.deepEqual([c0, c1, c2].map((c) => [c.epoch, c.seq, c.eof]), [[1, 0, false], [1, 1, false], [1, 2, false]]);
      assert.equal(c0.text + c1.text, 'héllo\n');
      assert.equal(c2.text, 'line 1\nline 2\n', 'a multi-line chunk arrives whole');

      // The job builds: a new overview, the queue moves on.
      await buildAndReport(farm, 'agent-1', a!);
      const after = JSON.parse((await events.nextWhere((x) => x.event === 'overview' && (JSON.parse(x.data) as DashboardOverview).running.length === 0)).data) as DashboardOverview;
      assert.deepEqual(after.submissions[0]!.progress, { total: 4, succeeded: 1, failed: 0, running: 0, waiting: 3 });
      assert.deepEqual(after.queue.filter((q) => q.state === 'ready').length, 2, 'b and c are ready');
      assert.deepEqual(after.queue.map((q) => q.state), ['ready', 'ready', 'waiting'], 'ready jobs first');

      // The attempt's eof ends the log stream (the job is finished).
      farm.logs.append({ jobId: jobA, epoch: 1, seq: 3, data: '', eof: true });
      const last = JSON.parse((await log.nextWhere((x) => x.event === 'chunk')).data) as DashboardLogChunk;
      assert.equal(last.eof, true);
      assert.equal((await log.next()).event, 'end');
      await assert.rejects(log.next(), /ended/, 'the server closes the stream after end');

      // A finished job's log: the history at once, then the end.
      const again = new SseClient(`${ops.url}/api/jobs/${jobA}/log`);
      const replay: string[] = [];
      for (let x = await again.next(); x.event !== 'end'; x = await again.next()) replay.push((JSON.parse(x.data) as DashboardLogChunk).text);
      assert.equal(replay.join(''), 'héllo\nline 1\nline 2\n');

      // One submission's jobs, with their systems.
      const detail = JSON.parse((await get(ops.url, `/api/submissions/${sub.submissionId}`)).body) as DashboardSubmissionJobs;
      assert.equal(detail.submission.id, sub.submissionId);
      assert.equal(detail.jobsTotal, 4);
      assert.deepEqual(detail.jobs.map((j) => j.system), [HOST_SYSTEM, HOST_SYSTEM, HOST_SYSTEM, HOST_SYSTEM]);
      assert.deepEqual(detail.jobs.find((j) => j.jobId === jobA)?.state, 'succeeded');
      assert.equal(detail.jobs.find((j) => j.jobId === jobA)?.agentId, 'agent-1');
      assert.equal((await get(ops.url, '/api/submissions/no-such-submission')).status, 404);
    } finally {
      events.close();
    }

    // Problems are events (the page's EventSource would log a non-event-stream answer as an error)…
    const unknown = new SseClient(`${ops.url}/api/jobs/${'0'.repeat(32)}/log`);
    const problem = await unknown.next();
    assert.equal(problem.event, 'problem');
    assert.equal((JSON.parse(problem.data) as { code: string }).code, 'NOT_FOUND');
    // …but what is not a job id at all is not found.
    assert.equal((await get(ops.url, '/api/jobs/not-a-job/log')).status, 404);
  });
});

test('the page and its assets: content types, the security policy, nothing outside the asset directories', { timeout: 60_000 }, async () => {
  await withDashboard(async (_farm, ops) => {
    for (const [path, type] of [
      ['/', /^text\/html/],
      ['/index.html', /^text\/html/],
      ['/assets/app.js', /^text\/javascript/],
      ['/assets/dashboard.css', /^text\/css/],
    ] as const) {
      const r = await get(ops.url, path);
      assert.equal(r.status, 200, path);
      assert.match(String(r.headers['content-type']), type, path);
      assert.equal(r.headers['content-security-policy'], CONTENT_SECURITY_POLICY, path);
      assert.equal(r.headers['x-content-type-options'], 'nosniff', path);
    }
    const page = (await get(ops.url, '/')).body;
    assert.match(page, /<script type="module" src="assets\/app\.js"><\/script>/);
    assert.doesNotMatch(page, /https?:\/\//, 'the page names nothing outside the farm');
    // The compiled modules import each other by relative name, and nothing else.
    const app = (await get(ops.url, '/assets/app.js')).body;
    for (const m of app.matchAll(/from '([^']+)'/g)) {
      assert.match(m[1]!, /^\.\/[a-z-]+\.js$/, `app.js imports ${m[1]}`);
      assert.equal((await get(ops.url, `/assets/${m[1]!.slice(2)}`)).status, 200, m[1]);
    }
    assert.equal((await get(ops.url, '/', 'HEAD')).status, 200);

    for (const path of [
      '/assets/..%2F..%2Fpackage.json',
      '/assets/%2e%2e%2Fpackage.json',
      '/assets/..%5C..%5Cpackage.json',
      '/assets/.hidden.js',
      '/assets/tsconfig.json',
      '/assets/app.d.ts',
      '/assets/index.html%00.js',
      '/assets/nope.js',
      '/assets/',
    ]) {
      assert.equal((await get(ops.url, path)).status, 404, path);
    }
    // Dot segments sent raw are resolved by the URL parser before routing: still nothing.
    for (const path of ['/assets/../package.json', '/assets/../../../../etc/passwd', '/assets/%2e%2e/%2e%2e/package.json']) {
      assert.match(await rawGet(ops.url, path), /^HTTP\/1\.1 404/, path);
    }
  });
});

test('server-sent event framing, trace links', () => {
  assert.equal(sseFrame('overview', '{"a":1}'), 'event: overview\ndata: {"a":1}\n\n');
  // A payload's line breaks of any kind cannot end the event early or start a field.
  assert.equal(sseFrame('x', 'one\ntwo\r\nthree\revent: y'), 'event: x\ndata: one\ndata: two\ndata: three\ndata: event: y\n\n');
  assert.throws(() => sseFrame('a\nb', ''));

  const tp = '00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01';
  assert.equal(traceIdOf(tp), '4bf92f3577b34da6a3ce929d0e0e4736');
  for (const bad of [undefined, '', 'garbage', '00-00000000000000000000000000000000-00f067aa0ba902b7-01', 'ff-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01', '00-4BF92F3577B34DA6A3CE929D0E0E4736-00f067aa0ba902b7-01']) {
    assert.equal(traceIdOf(bad), undefined, String(bad));
  }
  assert.equal(traceLink('http://jaeger:16686/trace/{traceId}', tp), 'http://jaeger:16686/trace/4bf92f3577b34da6a3ce929d0e0e4736');
  assert.equal(traceLink(undefined, tp), undefined);
  assert.equal(traceLink('http://jaeger:16686/trace/{traceId}', undefined), undefined);

  const row: SubmissionRow = {
    id: 'sub-1', roots: ['/nix/store/00000000000000000000000000000000-x.drv'], priority: 0, client: 'c', createdMs: 5, timeoutMs: 0, maxSilentMs: 0,
    done: true, jobsTotal: 3, alreadyValid: 0, shared: 0, succeeded: 2, failed: 1, lastSeq: 9, traceparent: tp,
  };
  const view = submissionView(row, [], 'http://ui/trace/{traceId}?x=1');
  assert.equal(view.traceUrl, 'http://ui/trace/4bf92f3577b34da6a3ce929d0e0e4736?x=1');
  assert.equal(view.outcome, 'failed');
  assert.deepEqual(view.progress, { total: 3, succeeded: 2, failed: 1, running: 0, waiting: 0 });
  assert.equal('traceUrl' in submissionView({ ...row, traceparent: 'nonsense' }, [], 'http://ui/{traceId}'), false);
});

test('ops.traceUrl: an http(s) URL with {traceId} in it', () => {
  const ops = (o: object) => compileCoordinatorConfig({ stateDir: '/tmp/x', ops: { listen: '127.0.0.1:0', ...o } }).ops;
  assert.deepEqual(ops({}), { listen: '127.0.0.1:0' });
  assert.deepEqual(ops({ traceUrl: 'http://jaeger:16686/trace/{traceId}' }), { listen: '127.0.0.1:0', traceUrl: 'http://jaeger:16686/trace/{traceId}' });
  for (const bad of ['http://jaeger:16686/trace/', 'javascript:alert({traceId})', 'ftp://x/{traceId}', '']) {
    assert.throws(() => ops({ traceUrl: bad }), (e: unknown) => isFarmError(e, 'INVALID_CONFIG') && /traceUrl/.test(e.message), bad);
  }
});

test('the overview feed: computed once per burst of changes, sent only when it differs, listening only while subscribed', async () => {
  let computed = 0;
  let version = 0;
  let listening = 0;
  let change: () => void = () => undefined;
  const feed = new OverviewFeed({
    compute: () => {
      computed++;
      return { nowMs: computed, version: String(version), submissions: [], submissionsTotal: 0, running: [], queue: [], queueTotal: 0, agents: [] };
    },
    onChange: (l) => {
      listening++;
      change = l;
      return () => void listening--;
    },
    logger: silentLogger(),
    // Far longer than this test: after the first run, every further change waits for it.
    minIntervalMs: 3_600_000,
    refreshMs: 3_600_000,
  });
  const tick = () => new Promise((r) => setTimeout(r, 20));
  const seen: string[] = [];
  const off = feed.subscribe((o) => seen.push(o.version));
  assert.equal(listening, 1);
  assert.deepEqual(seen, ['0'], 'the current overview at once');
  version = 1;
  for (let i = 0; i < 100; i++) change();
  await tick();
  assert.equal(computed, 2, 'a burst of 100 changes: one computation');
  assert.deepEqual(seen, ['0', '1']);
  for (let i = 0; i < 100; i++) change();
  await tick();
  assert.equal(computed, 2, 'the next burst waits for the interval');
  off();
  assert.equal(listening, 0, 'no subscriber, no listening');
  feed.close();

  // Unchanged overviews (apart from their time) are not sent again.
  const same = new OverviewFeed({ compute: () => ({ nowMs: Date.now(), version: 'v', submissions: [], submissionsTotal: 0, running: [], queue: [], queueTotal: 0, agents: [] }), onChange: (l) => ((change = l), () => undefined), logger: silentLogger() });
  const got: number[] = [];
  const off2 = same.subscribe((o) => got.push(o.nowMs));
  change();
  await tick();
  assert.equal(got.length, 1);
  off2();
  same.close();
});
