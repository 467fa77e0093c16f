/**
 * The agent's metrics: the counting wrappers (published results give outcomes, durations and
 * inline bytes; failed publishes and requests count as NATS errors, against a real nats-server),
 * the /metrics endpoint (strictly parsed, `agent` label on every series, its URL file), and the
 * config key that switches it on.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { isFarmError, silentLogger } from '@farm/common';
import { encodeMessage, SUBJECTS } from '@farm/proto';
import { connect } from '@nats-io/transport-node';
import { makeTempDir, parsePrometheusText, samplesOf, startNatsServer, sumOf } from '@farm/testkit';
import { compileAgentConfig } from '../src/index.js';
import { AgentMetrics } from '../src/metrics/agent-metrics.js';
import { countingAddPath, countingPublish, countingRequests, countingStore } from '../src/metrics/instrument.js';
import { METRICS_URL_FILE, startMetricsServer } from '../src/metrics/metrics-server.js';
import type { LocalStore } from '../src/store/local-store.js';

const scrape = async (m: AgentMetrics) => parsePrometheusText(await m.metrics());

test('published results, uploads and fetches are counted; failed publishes are NATS errors', async () => {
  const metrics = new AgentMetrics({ agent: 'a1', processMetrics: false });
  const sent: string[] = [];
  let fail = false;
  const publish = countingPublish(async (subject) => {
    if (fail) throw new Error('no stream');
    sent.push(subject);
    return { seq: 1 };
  }, metrics);
  const result = (status: string, nar?: Buffer) =>
    encodeMessage('BuildResult', { lease: { jobId: 'j', epoch: 1 }, agentId: 'a1', status, startMs: 1000, stopMs: 3000, outputNars: nar === undefined ? [] : [{ path: '/nix/store/x', nar }] });
  await publish(SUBJECTS.results('a1'), result('BUILD_STATUS_BUILT', Buffer.alloc(300)), { msgID: 'j:1' });
  await publish(SUBJECTS.results('a1'), result('BUILD_STATUS_TIMED_OUT'), { msgID: 'k:1' });
  await publish(SUBJECTS.logs('j'), new Uint8Array(10), { msgID: 'j:1:log:0' });
  fail = true;
  await assert.rejects(publish(SUBJECTS.logs('j'), new Uint8Array(10), { msgID: 'j:1:log:1' }), /no stream/);
  await assert.rejects(publish(SUBJECTS.results('a1'), result('BUILD_STATUS_BUILT'), { msgID: 'l:1' }), /no stream/);
  assert.equal(sent.length, 3, 'every publish went through');

  const upload = countingAddPath(async () => ({ alreadyValid: false }), metrics);
  await upload({ info: { path: '/nix/store/y', narSize: '2048' }, localPath: '/nonexistent' });
  const store = countingStore({ root: '/r', fetchMissing: async () => ({ fetched: 2, bytes: 5000 }) } as unknown as LocalStore, metrics);
  assert.equal(store.root, '/r', 'other members are the store’s own');
  assert.deepEqual(await store.fetchMissing([], () => (async function* () {})()), { fetched: 2, bytes: 5000 });

  const m = await scrape(metrics);
  assert.equal(sumOf(m, 'farm_agent_builds_total', { outcome: 'built' }), 1);
  assert.equal(sumOf(m, 'farm_agent_builds_total', { outcome: 'timed-out' }), 1);
  assert.equal(sumOf(m, 'farm_agent_builds_total', { outcome: 'failed' }), 0);
  assert.equal(sumOf(m, 'farm_agent_build_duration_seconds_count'), 2);
  assert.equal(sumOf(m, 'farm_agent_build_duration_seconds_sum'), 4);
  assert.equal(sumOf(m, 'farm_agent_upload_bytes_total', { via: 'inline' }), 300);
  assert.equal(sumOf(m, 'farm_agent_upload_bytes_total', { via: 'grpc' }), 2048);
  assert.equal(sumOf(m, 'farm_agent_download_bytes_total'), 5000);
  assert.equal(sumOf(m, 'farm_agent_nats_errors_total', { operation: 'publish-log' }), 1);
  assert.equal(sumOf(m, 'farm_agent_nats_errors_total', { operation: 'publish-result' }), 1);
  for (const f of m.values()) for (const s of f.samples) assert.equal(s.labels['agent'], 'a1', `${s.name} carries the agent label`);
});

test('requests through the counting connection: failures and error replies by operation; the rest of the connection works', { timeout: 30_000 }, async () => {
  const nats = await startNatsServer();
  const nc = await connect({ servers: nats.url });
  try {
    const metrics = new AgentMetrics({ agent: 'a1', processMetrics: false });
    const counted = countingRequests(nc, metrics);
    await assert.rejects(counted.request(SUBJECTS.heartbeat, new Uint8Array(), { timeout: 500 }), 'no responders');
    const sub = counted.subscribe(SUBJECTS.register, {
      callback: (_e, msg) => {
        const h = (msg as unknown as { respond(d: Uint8Array, o?: unknown): void });
        import('@nats-io/transport-node').then(({ headers }) => {
          const hs = headers();
          hs.set('farm-error-code', 'INVALID_ARGUMENT');
          h.respond(new Uint8Array(), { headers: hs });
        });
      },
    });
    await counted.flush();
    const reply = await counted.request(SUBJECTS.register, new Uint8Array(), { timeout: 2000 });
    assert.equal(reply.headers?.get('farm-error-code'), 'INVALID_ARGUMENT');
    sub.unsubscribe();
    assert.equal(counted.isClosed(), false);
    const m = await scrape(metrics);
    assert.equal(sumOf(m, 'farm_agent_nats_errors_total', { operation: 'heartbeat' }), 1);
    assert.equal(sumOf(m, 'farm_agent_nats_errors_total', { operation: 'register' }), 1);
  } finally {
    await nc.close();
    await nats.stop();
  }
});

test('/metrics: the exposition, its URL file while it runs, 404 elsewhere; slots read at scrape time', async () => {
  const dir = await makeTempDir('farm-agent-metrics-');
  try {
    const metrics = new AgentMetrics({ agent: 'a2' });
    metrics.readSlotsFrom(() => ({ building: 3, free: 1, maxJobs: 4 }));
    const server = await startMetricsServer(metrics.registry, '127.0.0.1:0', { stateDir: dir.path, logger: silentLogger() });
    try {
      assert.match(server.url, /^http:\/\/127\.0\.0\.1:\d+\/metrics$/);
      assert.equal(readFileSync(join(dir.path, METRICS_URL_FILE), 'utf8').trim(), server.url);
      const res = await fetch(server.url);
      assert.equal(res.status, 200);
      assert.match(res.headers.get('content-type') ?? '', /^text\/plain; version=0\.0\.4/);
      const m = parsePrometheusText(await res.text());
      assert.equal(sumOf(m, 'farm_agent_slots_used'), 3);
      assert.equal(sumOf(m, 'farm_agent_slots_free'), 1);
      assert.equal(sumOf(m, 'farm_agent_max_jobs'), 4);
      assert.equal(samplesOf(m, 'process_cpu_seconds_total')[0]?.labels['agent'], 'a2');
      assert.equal((await fetch(server.url.replace('/metrics', '/other'))).status, 404);
      assert.equal((await fetch(server.url, { method: 'POST' })).status, 405);
    } finally {
      await server.close();
    }
    assert.equal(existsSync(join(dir.path, METRICS_URL_FILE)), false, 'the URL file goes with the server');
  } finally {
    await dir.remove();
  }
});

test('config: metrics.listen switches the endpoint on; absent means none; a bad address is named', () => {
  const base = { stateDir: '/var/lib/farm-agent', coordinator: '127.0.0.1:7420', systems: ['x86_64-linux'], supportedFeatures: [] };
  assert.equal(compileAgentConfig(base).metrics, undefined);
  assert.deepEqual(compileAgentConfig({ ...base, metrics: { listen: '127.0.0.1:0' } }).metrics, { listen: '127.0.0.1:0' });
  assert.deepEqual(compileAgentConfig({ ...base, metrics: { listen: ':9100' } }).metrics, { listen: ':9100' });
  assert.throws(() => compileAgentConfig({ ...base, metrics: { listen: 'nowhere' } }), (e: unknown) => isFarmError(e, 'INVALID_CONFIG') && /metrics\.listen/.test(e.message));
  assert.throws(() => compileAgentConfig({ ...base, metrics: { listen: '127.0.0.1:0', path: '/x' } }), (e: unknown) => isFarmError(e, 'INVALID_CONFIG') && /path/.test(e.message));
});
