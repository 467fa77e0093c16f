/**
 * The coordinator's metrics: the lifecycle facts read from the real Scheduler's events (so a
 * change in how it words lease losses fails here), and the whole registry over a real
 * FarmService, farm store and gRPC server — scraped text parsed with the strict parser and
 * checked against what was submitted, uploaded, built and refused.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { ManualClock, sequentialIds, silentLogger } from '@farm/common';
import { createCoordinatorClient } from '@farm/proto';
import { parsePrometheusText, samplesOf, sumOf } from '@farm/testkit';
import { Scheduler, type AgentCapabilities, type DrvNode } from '../src/index.js';
import { CoordinatorMetrics } from '../src/adapters/metrics/coordinator-metrics.js';
import { JobLifecycle, leaseLossCause, type LeaseLossCause } from '../src/adapters/metrics/job-lifecycle.js';
import { metricsRoutes } from '../src/adapters/metrics/routes.js';
import { startGrpcServer } from '../src/adapters/grpc/server.js';
import { startOpsServer } from '../src/adapters/http-ops/ops-server.js';
import {
  addPath,
  call,
  diamondExpression,
  DIAMOND_ATTRS,
  fabricateOutputs,
  instantiate,
  registerAgent,
  rejectsWith,
  requestWork,
  result,
  submitRoots,
  uploadClosure,
  withFarm,
} from './service-fixtures.js';

const caps: AgentCapabilities = { systems: ['x86_64-linux'], supportedFeatures: [], mandatoryFeatures: [], maxJobs: 4, speedFactor: 1 };
const node = (drvPath: string, inputDrvs: string[] = []): DrvNode => ({ drvPath, system: 'x86_64-linux', requiredFeatures: [], inputDrvs });

test('lifecycle from the real scheduler: queue waits, retries, expired leases and lost agents', () => {
  const clock = new ManualClock(1_000);
  const s = new Scheduler(clock, sequentialIds(), { leaseMs: 5_000, maxAttempts: 5, retry: { backoffBaseMs: 0, backoffCapMs: 0 } });
  const waits: number[] = [];
  const losses: LeaseLossCause[] = [];
  let retries = 0;
  const lifecycle = new JobLifecycle({ assigned: (_d, ms) => waits.push(ms), retried: () => retries++, leaseLost: (c) => losses.push(c) });
  lifecycle.observe(s.registerAgent('a1', caps));
  lifecycle.observe(s.submit({ roots: ['x', 'y'] }, new Map([['x', node('x')], ['y', node('y')]]), () => false).events);
  clock.advance(250);
  const first = s.requestWork('a1', 2);
  lifecycle.observe(first.events);
  assert.deepEqual(waits, [250, 250], 'both jobs waited 250 ms in the queue');

  clock.advance(6_000); // past the lease deadline
  lifecycle.observe(s.expireLeases());
  assert.deepEqual(losses, ['deadline', 'deadline']);
  assert.equal(retries, 2);

  clock.advance(100);
  const second = s.requestWork('a1', 2);
  lifecycle.observe(second.events);
  assert.deepEqual(waits.slice(2), [100, 100], 'the wait restarts when the job is requeued');
  lifecycle.observe(s.removeAgent('a1'));
  assert.deepEqual(losses.slice(2), ['agent-lost', 'agent-lost']);
  assert.equal(retries, 4);
  assert.equal(lifecycle.size, 2, 'two unfinished jobs tracked');

  lifecycle.observe(s.registerAgent('a2', caps));
  for (const a of s.requestWork('a2', 2).assignments) lifecycle.observe(s.complete(a.jobId, 'a2', a.epoch, { kind: 'built' }).events);
  assert.equal(lifecycle.size, 0, 'finished jobs are forgotten');
  assert.equal(leaseLossCause('retrying after an infrastructure failure on a1 (attempt 1 of 3), not before …: bwrap failed'), undefined);
});

test('the registry over a real service: jobs, queue buckets, dedup, bytes, builds, errors; served on /metrics', { timeout: 60_000 }, async () => {
  const drvs = await instantiate(diamondExpression(`metrics-${Date.now()}`), DIAMOND_ATTRS);
  await withFarm(async (farm) => {
    const logger = silentLogger();
    const metrics = new CoordinatorMetrics({
      service: farm.service,
      routingOf: (d) => farm.service.routingOf(d),
      storeUsage: () => farm.store.usage(),
      submissionRow: (id) => farm.state.getSubmission(id),
      clock: { now: () => Date.now() },
      logger,
    }).attach();
    const grpc = await startGrpcServer({ service: farm.service, store: farm.store, logs: farm.logs, logger, observer: metrics }, '127.0.0.1:0');
    const client = createCoordinatorClient(grpc.address);
    const ops = await startOpsServer({ routes: metricsRoutes(metrics.registry), logger }, '127.0.0.1:0');
    const scrape = async () => {
      const res = await fetch(`${ops.url}/metrics`);
      assert.equal(res.status, 200);
      assert.match(res.headers.get('content-type') ?? '', /^text\/plain; version=0\.0\.4/);
      return parsePrometheusText(await res.text());
    };
    try {
      await uploadClosure(client, [drvs.top!, drvs.other!, drvs.feature!]);
      const sub = await submitRoots({ client }, [drvs.top!, drvs.other!, drvs.feature!]);
      assert.equal(sub.jobsTotal, 6);
      await rejectsWith(submitRoots({ client }, []), 'INVALID_ARGUMENT', /at least one root/);

      let m = await scrape();
      assert.ok(sumOf(m, 'farm_upload_bytes_total', { source: 'client' }) > 0, 'the closure upload counts as client bytes');
      assert.equal(sumOf(m, 'farm_upload_bytes_total', { source: 'agent' }), 0);
      assert.equal(sumOf(m, 'farm_grpc_errors_total', { method: 'Submit', code: 'INVALID_ARGUMENT' }), 1);
      assert.equal(sumOf(m, 'farm_submissions_total'), 1);
      assert.equal(sumOf(m, 'farm_jobs', { state: 'ready' }), 2, 'a and feature are ready');
      assert.equal(sumOf(m, 'farm_jobs', { state: 'waiting' }), 4);
      const host = samplesOf(m, 'farm_queue_depth', { features: '' })[0]?.labels['system'];
      assert.ok(host !== undefined && host !== 'unknown');
      assert.equal(sumOf(m, 'farm_queue_depth', { system: host!, features: '' }), 1);
      assert.equal(sumOf(m, 'farm_queue_depth', { system: host!, features: 'big-parallel' }), 1);
      const storePaths = sumOf(m, 'farm_store_paths');
      assert.ok(storePaths > 0 && sumOf(m, 'farm_store_nar_bytes') > 0);

      await registerAgent(farm.service, 'agent-1', { supportedFeatures: ['big-parallel'], maxJobs: 4 });
      const assigned = await requestWork(farm.service, 'agent-1');
      assert.equal(assigned.length, 2);
      m = await scrape();
      assert.equal(sumOf(m, 'farm_slots_used', { agent: 'agent-1' }), 2);
      assert.equal(sumOf(m, 'farm_slots_free', { agent: 'agent-1' }), 2);
      assert.equal(sumOf(m, 'farm_agents'), 1);
      assert.equal(sumOf(m, 'farm_queue_depth'), 0);
      assert.equal(sumOf(m, 'farm_dispatch_latency_seconds_count'), 2);
      assert.equal(sumOf(m, 'farm_queue_wait_seconds_count', { features: 'big-parallel' }), 1);

      // a builds (outputs uploaded under its lease), feature fails; results as the consumer applies them.
      let agentBytes = 0;
      for (const a of assigned) {
        const built = a.drvPath === drvs.a;
        if (built) {
          for (const { info, nar } of await fabricateOutputs(a)) {
            await addPath(client, info, nar, a.lease!);
            agentBytes += nar.length;
          }
        }
        const r = { ...result('agent-1', a, built ? 'BUILD_STATUS_BUILT' : 'BUILD_STATUS_FAILED', built ? '' : 'exit 1'), startMs: '1000', stopMs: '3500' };
        metrics.resultApplied(r, await farm.service.applyResult(r));
        // A redelivery is not a second build.
        metrics.resultApplied(r, await farm.service.applyResult(r));
      }
      m = await scrape();
      assert.equal(sumOf(m, 'farm_builds_total', { outcome: 'built' }), 1);
      assert.equal(sumOf(m, 'farm_builds_total', { outcome: 'failed' }), 1);
      assert.equal(sumOf(m, 'farm_builds_total', { outcome: 'timed-out' }), 0, 'every outcome has a series');
      assert.equal(sumOf(m, 'farm_build_duration_seconds_count'), 2);
      assert.equal(sumOf(m, 'farm_build_duration_seconds_sum'), 5);
      assert.equal(sumOf(m, 'farm_upload_bytes_total', { source: 'agent' }), agentBytes);
      assert.equal(sumOf(m, 'farm_jobs', { state: 'failed' }), 1);
      assert.equal(sumOf(m, 'farm_jobs', { state: 'succeeded' }), 1);
      assert.equal(sumOf(m, 'farm_store_paths'), storePaths + 1, 'the store counts the new output');

      // The same roots again: b, c, top and other are shared with the running submission.
      const again = await submitRoots({ client }, [drvs.top!, drvs.other!]);
      assert.equal(again.shared, 4);
      m = await scrape();
      assert.equal(sumOf(m, 'farm_dedup_hits_total', { kind: 'shared' }), 4);
      assert.equal(sumOf(m, 'farm_dedup_hits_total', { kind: 'already-valid' }), again.alreadyValid);
      assert.equal(sumOf(m, 'farm_submissions_total'), 2);
      assert.ok(m.has('process_cpu_seconds_total'), 'process metrics are there');
      assert.equal(m.get('farm_builds_total')?.type, 'counter');
      assert.equal(m.get('farm_queue_wait_seconds')?.type, 'histogram');
    } finally {
      client.close();
      await ops.close();
      await grpc.close();
      metrics.close();
    }
  });
});

test('seeded after a restart: jobs the replay brought back are counted, not new submissions', { timeout: 60_000 }, async () => {
  const drvs = await instantiate(diamondExpression(`metrics-restart-${Date.now()}`), DIAMOND_ATTRS);
  await withFarm(async (farm) => {
    await uploadClosure(farm.client, [drvs.top!]);
    await submitRoots(farm, [drvs.top!]);
    await farm.restart();
    const metrics = new CoordinatorMetrics({
      service: farm.service,
      routingOf: (d) => farm.service.routingOf(d),
      storeUsage: () => farm.store.usage(),
      submissionRow: (id) => farm.state.getSubmission(id),
      clock: { now: () => Date.now() },
      logger: silentLogger(),
      processMetrics: false,
    }).attach();
    try {
      await registerAgent(farm.service, 'agent-1');
      const [a] = await requestWork(farm.service, 'agent-1');
      assert.equal(a?.drvPath, drvs.a);
      const m = parsePrometheusText(await metrics.metrics());
      assert.equal(sumOf(m, 'farm_jobs', { state: 'running' }), 1);
      assert.equal(sumOf(m, 'farm_jobs', { state: 'waiting' }), 3);
      assert.equal(sumOf(m, 'farm_dispatch_latency_seconds_count'), 1, 'the replayed ready job was seeded with its ready time');
      assert.equal(sumOf(m, 'farm_submissions_total'), 0, 'the replayed submission is not a new one');
      assert.equal(m.has('process_cpu_seconds_total'), false);
      await call(farm.client, 'Status', {});
    } finally {
      metrics.close();
    }
  });
});
