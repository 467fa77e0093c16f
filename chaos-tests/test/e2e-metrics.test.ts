/**
 * Metrics end to end: `farm up` with two agents builds a small DAG with one failing derivation,
 * the DAG is submitted again (dedup), then the coordinator's and both agents' /metrics are
 * scraped and parsed with the strict exposition parser (testkit/prometheus-text.ts), and their
 * counters are compared with the coordinator's own build records: builds by outcome on the
 * coordinator and summed over the agents, output bytes the agents sent = bytes the coordinator
 * received from agents, jobs by state, dedup hits, an empty queue. Every metric the Grafana
 * dashboard (helm/farm/dashboards/farm.json) queries must be in the scrapes, so it cannot drift.
 */
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { readFileSync, realpathSync } from 'node:fs';
import { join } from 'node:path';
import { parsePrometheusText, REPO_ROOT, runFarm, sumOf, type FarmUp, type MetricFamily, type TempDir } from '@farm/testkit';
import { eventually, FarmClient, startFarmFixture, stopFarmFixture } from '../src/index.js';

const BIG_DAG = join(REPO_ROOT, 'examples', 'big-dag');
const BENCH_DAG = join(REPO_ROOT, 'bench', 'dag', 'default.nix');
const GRAFANA = join(REPO_ROOT, 'helm', 'farm', 'dashboards', 'farm.json');

let dir: TempDir;
let farm: FarmUp;
let client: FarmClient;
const env = (): NodeJS.ProcessEnv => ({ FARM_STATE_DIR: farm.stateDir, FARM_COORDINATOR: '' });

type Families = Map<string, MetricFamily>;

async function scrape(url: string): Promise<Families> {
  const res = await fetch(url);
  assert.equal(res.status, 200, url);
  assert.match(res.headers.get('content-type') ?? '', /^text\/plain; version=0\.0\.4/);
  return parsePrometheusText(await res.text());
}

/** The `submitted` event of a `farm submit --json` run. */
function submitted(stdout: string): { alreadyValid: number; shared: number } {
  for (const l of stdout.split('\n')) {
    if (l.trim() === '') continue;
    const e = JSON.parse(l) as { type?: string; alreadyValid?: number; shared?: number };
    if (e.type === 'submitted') return { alreadyValid: e.alreadyValid ?? 0, shared: e.shared ?? 0 };
  }
  throw new Error(`no 'submitted' event in:\n${stdout}`);
}

before(async () => ({ dir, farm, client } = await startFarmFixture('farm-e2e-metrics-', ['--agents', '2', '--max-jobs', '1', '--emulation', 'off'])));

after(() => stopFarmFixture({ dir, farm, client }));

test('the scraped counters match what the farm built; the Grafana dashboard queries only metrics that exist', { timeout: 240_000 }, async () => {
  const address = JSON.parse(readFileSync(join(farm.stateDir, 'address.json'), 'utf8')) as { ops?: string; agentMetrics?: Record<string, string> };
  assert.ok(address.ops !== undefined, 'address.json names the ops endpoint');
  const agentUrls = address.agentMetrics ?? {};
  assert.deepEqual(Object.keys(agentUrls).sort(), [...farm.agents].sort(), 'address.json names every agent’s metrics endpoint');
  // The banner follows the --json ready line.
  await eventually(async () => assert.match(farm.stderr(), /metrics {6}http:\/\/127\.0\.0\.1:\d+\/metrics \(agent /, 'the banner shows them'), 10_000);

  // A small DAG (2 layers × 3) and the failing set: broken fails, its two dependents fail with it.
  const root = join(dir.path, 'gc');
  const top = execFileSync('nix-instantiate', [BENCH_DAG, '-A', 'top', '--argstr', 'salt', `metrics-${Date.now()}`, '--arg', 'layers', '2', '--arg', 'width', '3', '--add-root', root, '--indirect'], { encoding: 'utf8' })
    .split('\n')
    .filter((l) => l !== '')
    .map((l) => realpathSync(l)); // with --add-root it prints the GC roots, links to the .drv files
  const dagRun = await runFarm(['submit', '--json', ...top], { env: env() });
  assert.equal(dagRun.code, 0, dagRun.stderr);
  const failing = await runFarm(['submit', '--json', `path:${BIG_DAG}#failing`], { env: env() });
  assert.equal(failing.code, 1, failing.stderr);
  // The DAG again: its outputs are valid now, nothing is built (dedup). The failing set again:
  // its cached failure is reused and the whole chain below it fails at once, nothing built.
  const again = await runFarm(['submit', '--json', ...top], { env: env() });
  assert.equal(again.code, 0, again.stderr);
  const failingAgain = await runFarm(['submit', '--json', `path:${BIG_DAG}#failing`], { env: env(), timeoutMs: 60_000 });
  assert.equal(failingAgain.code, 1, `the failing set again ends (with its cached failure):\n${failingAgain.stderr}`);
  const admitted = [dagRun, failing, again, failingAgain].map((r) => submitted(r.stdout));
  const alreadyValid = admitted.reduce((n, s) => n + s.alreadyValid, 0);
  assert.ok(admitted[2]!.alreadyValid >= 3, 'the second run of the DAG found its roots built');

  const records = await client.builds();
  const built = records.filter((b) => b.status === 'built').length;
  assert.equal(built, 6 + 2, 'the DAG and the two siblings were built');
  assert.equal(records.filter((b) => b.status === 'failed').length, 1);
  assert.equal(records.length, built + 1);

  // Results are counted when the coordinator applies them, agents' when they publish them.
  const { coordinator, agents } = await eventually(async () => {
    const coordinator = await scrape(`${address.ops!}/metrics`);
    const agents = await Promise.all(Object.values(agentUrls).map((u) => scrape(u)));
    assert.equal(sumOf(coordinator, 'farm_builds_total'), records.length);
    assert.equal(agents.reduce((n, a) => n + sumOf(a, 'farm_agent_builds_total'), 0), records.length);
    return { coordinator, agents };
  }, 20_000, 200);
  const overAgents = (name: string, match: Record<string, string> = {}) => agents.reduce((n, a) => n + sumOf(a, name, match), 0);

  assert.equal(sumOf(coordinator, 'farm_builds_total', { outcome: 'built' }), built);
  assert.equal(sumOf(coordinator, 'farm_builds_total', { outcome: 'failed' }), 1);
  assert.equal(overAgents('farm_agent_builds_total', { outcome: 'built' }), built);
  assert.equal(overAgents('farm_agent_builds_total', { outcome: 'failed' }), 1);
  assert.ok(agents.every((a) => sumOf(a, 'farm_agent_builds_total') > 0), 'both agents built something');
  assert.equal(sumOf(coordinator, 'farm_build_duration_seconds_count'), records.length);
  assert.equal(overAgents('farm_agent_build_duration_seconds_count'), records.length);

  const sent = overAgents('farm_agent_upload_bytes_total');
  assert.ok(sent > 0, 'the agents uploaded output bytes');
  assert.equal(sumOf(coordinator, 'farm_upload_bytes_total', { source: 'agent' }), sent, 'what the agents sent is what the coordinator received from agents');
  assert.ok(sumOf(coordinator, 'farm_upload_bytes_total', { source: 'client' }) > 0, 'farm submit uploaded the derivations');

  assert.equal(sumOf(coordinator, 'farm_jobs', { state: 'succeeded' }), built);
  assert.equal(sumOf(coordinator, 'farm_jobs', { state: 'failed' }), 1);
  assert.equal(sumOf(coordinator, 'farm_jobs', { state: 'dependency-failed' }), 2);
  for (const state of ['waiting', 'ready', 'running']) assert.equal(sumOf(coordinator, 'farm_jobs', { state }), 0, state);
  assert.equal(sumOf(coordinator, 'farm_queue_depth'), 0, 'nothing is queued at the end');
  assert.equal(sumOf(coordinator, 'farm_submissions_total'), 4);
  assert.equal(sumOf(coordinator, 'farm_dedup_hits_total', { kind: 'already-valid' }), alreadyValid);
  assert.equal(sumOf(coordinator, 'farm_queue_wait_seconds_count'), records.length, 'every leased job waited in a queue bucket');
  assert.equal(sumOf(coordinator, 'farm_agents'), 2);
  assert.equal(sumOf(coordinator, 'farm_slots_used'), 0);
  assert.equal(sumOf(coordinator, 'farm_slots_free'), 2);
  assert.ok(sumOf(coordinator, 'farm_store_paths') > 0 && sumOf(coordinator, 'farm_store_nar_bytes') > 0);
  assert.equal(sumOf(coordinator, 'farm_lease_expiries_total'), 0);
  assert.equal(sumOf(coordinator, 'farm_retries_total'), 0);
  assert.equal(overAgents('farm_agent_slots_used'), 0);
  assert.equal(overAgents('farm_agent_slots_free'), 2);

  // Every metric the dashboard queries is served (histogram series by their family).
  const dashboard = readFileSync(GRAFANA, 'utf8');
  const exprs = (JSON.parse(dashboard) as { panels: { targets?: { expr: string }[] }[] }).panels.flatMap((p) => (p.targets ?? []).map((t) => t.expr));
  assert.ok(exprs.length >= 20);
  const served = new Set<string>();
  for (const m of [coordinator, ...agents]) for (const f of m.values()) for (const s of f.samples) served.add(s.name);
  for (const m of [coordinator, ...agents]) for (const name of m.keys()) served.add(name);
  const used = new Set(exprs.flatMap((e) => e.match(/\b(farm|process|nodejs)_[a-z0-9_]+/g) ?? []));
  for (const name of used) assert.ok(served.has(name), `the dashboard queries ${name}, which no /metrics serves`);
});

test('an agent farm up restarts serves its metrics on a new port, and address.json follows', { timeout: 120_000 }, async () => {
  const addressFile = join(farm.stateDir, 'address.json');
  const urlsNow = () => (JSON.parse(readFileSync(addressFile, 'utf8')) as { agentMetrics: Record<string, string> }).agentMetrics;
  const name = farm.agents[0]!;
  const before = urlsNow()[name]!;
  const pid = execFileSync('pgrep', ['-f', `agents/${name}.json`], { encoding: 'utf8' }).trim().split('\n')[0]!;
  process.kill(Number(pid), 'SIGKILL');
  const after = await eventually(async () => {
    const url = urlsNow()[name];
    assert.ok(url !== undefined && url !== before, `address.json names ${name}'s new metrics endpoint (still ${String(url)})`);
    return url;
  }, 60_000, 200);
  const text = await (await fetch(after)).text();
  assert.match(text, new RegExp(`farm_agent_slots_free\\{agent="${name}"\\}`), 'the new endpoint serves that agent');
});
