/**
 * The farm end to end, as users run it: `farm up` (real nats-server with JetStream, the
 * coordinator with LMDB, two agents building in bubblewrap sandboxes) and `farm submit` of
 * examples evaluated by the real Nix. Assertions use the coordinator's own records (gRPC) and
 * what the real Nix builds from the same derivations.
 */
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync, spawn } from 'node:child_process';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { Hash } from '@farm/nix';
import { FARM_BIN, killTree, REPO_ROOT, runFarm, type FarmUp, type TempDir } from '@farm/testkit';
import { eventually, FarmClient, startFarmFixture, stopFarmFixture } from '../src/index.js';

const BIG_DAG = join(REPO_ROOT, 'examples', 'big-dag');
const BENCH_DAG = join(REPO_ROOT, 'bench', 'dag', 'default.nix');

let dir: TempDir;
let farm: FarmUp;
let client: FarmClient;
const env = (): NodeJS.ProcessEnv => ({ FARM_STATE_DIR: farm.stateDir, FARM_COORDINATOR: '' });

function sh(cmd: string, args: readonly string[]): string {
  return execFileSync(cmd, args, { encoding: 'utf8', maxBuffer: 64 << 20, cwd: REPO_ROOT, stdio: ['ignore', 'pipe', 'pipe'] });
}

function lines(s: string): string[] {
  return s.split('\n').filter((l) => l !== '');
}

/** Instantiates `attr` of a Nix file (GC roots in the test dir keep the .drv files alive). */
function instantiate(file: string, attr: string, extra: readonly string[] = []): string[] {
  const root = join(dir.path, `gc-${Math.random().toString(36).slice(2)}`);
  return lines(sh('nix-instantiate', [file, '-A', attr, ...extra, '--add-root', root, '--indirect'])).map((l) => sh('readlink', ['-f', l]).trim());
}

/** Every derivation in the closure of the roots, with its output paths. */
function drvClosure(roots: readonly string[]): Map<string, string[]> {
  const out = new Map<string, string[]>();
  for (const d of lines(sh('nix-store', ['-qR', ...roots])).filter((p) => p.endsWith('.drv'))) out.set(d, lines(sh('nix-store', ['-q', '--outputs', d])));
  return out;
}

function submissionIdOf(jsonLines: string): string {
  for (const l of lines(jsonLines)) {
    const e = JSON.parse(l) as { type?: string; submissionId?: string };
    if (e.type === 'submitted' && e.submissionId !== undefined) return e.submissionId;
  }
  throw new Error(`no 'submitted' event in:\n${jsonLines}`);
}

async function jobStates(submissionId: string): Promise<Map<string, { state: string; reason: string; agentId: string }>> {
  const status = await client.status(submissionId);
  return new Map(status.jobs.map((j) => [j.drvPath, { state: j.state, reason: j.reason, agentId: j.agentId }]));
}

// No emulated agent: one test here starts an aarch64-linux agent itself, after seeing the job wait.
before(async () => ({ dir, farm, client } = await startFarmFixture('farm-e2e-', ['--agents', '2', '--max-jobs', '1', '--emulation', 'off'])));

after(() => stopFarmFixture({ dir, farm, client }));

test('examples/big-dag on two agents: every output path and NAR hash equals what nix-store --realise gives', async () => {
  const run = await runFarm(['submit', `path:${BIG_DAG}#all`], { env: env() });
  assert.equal(run.code, 0, `farm submit failed:\n${run.stderr.slice(-4000)}`);
  const roots = instantiate(join(BIG_DAG, 'default.nix'), 'all');
  const closure = drvClosure(roots);
  assert.ok(closure.size >= 40, `the example has ${closure.size} derivations`);
  const builds = await client.builds();
  assert.equal(new Set(builds.map((b) => b.agentId)).size, 2, 'both agents built part of it');
  for (const drv of closure.keys()) assert.equal(builds.filter((b) => b.drvPath === drv).length, 1, `${drv} was built exactly once`);

  sh('nix-store', ['--realise', ...roots, '--option', 'substituters', '', '--add-root', join(dir.path, 'nix-out'), '--indirect']);
  const outputs = [...closure.values()].flat();
  assert.deepEqual(await client.missing(outputs), [], 'every output of the closure is valid in the farm store');
  for (const out of outputs) {
    const nixHash = Hash.parse(sh('nix-store', ['-q', '--hash', out]).trim()).encode('base16');
    assert.equal(await client.narSha256Hex(out), nixHash, `NAR hash of ${out}`);
  }
  assert.match(run.stdout, /all\.summary -> \/nix\/store\/[0-9a-z]{32}-summary/);
});

test('submitting it again builds nothing', async () => {
  const before = (await client.builds()).length;
  const run = await runFarm(['submit', '--json', `path:${BIG_DAG}#all`], { env: env() });
  assert.equal(run.code, 0, run.stderr);
  const submitted = lines(run.stdout).map((l) => JSON.parse(l) as Record<string, unknown>).find((e) => e['type'] === 'submitted');
  assert.equal(submitted?.['jobsTotal'], 0);
  assert.equal((await client.builds()).length, before);
});

test('a derivation printing 100,000 lines: farm logs returns every line in order', async () => {
  const [drv] = instantiate(join(BIG_DAG, 'default.nix'), 'all.logs.chatty');
  const run = await runFarm(['logs', drv!], { env: env() });
  assert.equal(run.code, 0, run.stderr);
  const got = lines(run.stdout);
  assert.equal(got.length, 100_000);
  for (let i = 0; i < got.length; i++) if (got[i] !== `log line ${i + 1}`) assert.fail(`line ${i + 1} is '${got[i]}'`);
});

test('two overlapping submissions at once build each shared derivation exactly once', async () => {
  const salt = ['--argstr', 'salt', `overlap-${Date.now()}`, '--arg', 'layers', '4', '--arg', 'width', '6'];
  const top = instantiate(BENCH_DAG, 'top', salt);
  const closure = drvClosure(top);
  const [a, b] = await Promise.all([
    runFarm(['submit', ...top], { env: env() }),
    runFarm(['submit', top[0]!, top[3]!], { env: env() }),
  ]);
  assert.equal(a.code, 0, a.stderr);
  assert.equal(b.code, 0, b.stderr);
  const builds = await client.builds();
  for (const drv of closure.keys()) assert.equal(builds.filter((x) => x.drvPath === drv).length, 1, `${drv} built once`);
});

test('a failing derivation: exactly its dependents fail, the rest build, and the exit code is non-zero', async () => {
  const run = await runFarm(['submit', '--json', `path:${BIG_DAG}#failing`], { env: env() });
  assert.equal(run.code, 1);
  const states = await jobStates(submissionIdOf(run.stdout));
  const drvOf = (attr: string): string => instantiate(join(BIG_DAG, 'default.nix'), `failing.${attr}`)[0]!;
  const broken = drvOf('broken');
  assert.equal(states.get(broken)?.state, 'JOB_STATE_FAILED');
  assert.match(states.get(broken)?.reason ?? '', /failed with exit code 1[\s\S]*this builder fails on purpose/);
  for (const dep of ['dependent', 'dependent2']) {
    assert.equal(states.get(drvOf(dep))?.state, 'JOB_STATE_DEPENDENCY_FAILED', dep);
    assert.match(states.get(drvOf(dep))?.reason ?? '', new RegExp(broken.replace(/[.]/g, '\\.')));
  }
  for (const ok of ['siblingA', 'siblingB']) assert.equal(states.get(drvOf(ok))?.state, 'JOB_STATE_SUCCEEDED', ok);
});

test('a system no agent has waits for capacity at once; an agent that can serve it joins and the build completes', async () => {
  const run = await runFarm(['submit', '--no-wait', '--json', `path:${BIG_DAG}#aarch64`], { env: env() });
  assert.equal(run.code, 0, run.stderr);
  const sub = submissionIdOf(run.stdout);
  const [drv] = instantiate(join(BIG_DAG, 'default.nix'), 'aarch64.hello');
  const waiting = (await jobStates(sub)).get(drv!);
  assert.equal(waiting?.state, 'JOB_STATE_READY');
  assert.match(waiting?.reason ?? '', /waiting for capacity.*aarch64-linux/);

  // An agent offering aarch64-linux (the example's builder is the host's /bin/sh, so it runs here).
  const config = join(dir.path, 'arm-agent.json');
  writeFileSync(
    config,
    JSON.stringify({ name: 'arm-test', stateDir: join(dir.path, 'arm-agent'), coordinator: farm.grpc, nats: { servers: [farm.nats] }, systems: ['aarch64-linux'], maxJobs: 1, sandboxPaths: ['/bin', '/usr', '/lib', '/lib64?'] }),
  );
  const agent = spawn(FARM_BIN, ['agent', '--config', config], { stdio: 'ignore', detached: true });
  try {
    await eventually(async () => {
      const s = (await jobStates(sub)).get(drv!);
      assert.equal(s?.state, 'JOB_STATE_SUCCEEDED');
      assert.equal(s?.agentId, 'arm-test');
    }, 60_000, 200);
  } finally {
    killTree(agent);
  }
});

test('--copy-back puts the outputs into the local Nix store, where nix-store --verify-path accepts them', async () => {
  const top = instantiate(BENCH_DAG, 'top', ['--argstr', 'salt', `copy-back-${Date.now()}`, '--arg', 'layers', '2', '--arg', 'width', '2']);
  const outputs = top.flatMap((d) => lines(sh('nix-store', ['-q', '--outputs', d])));
  const run = await runFarm(['submit', '--copy-back', ...top], { env: env() });
  assert.equal(run.code, 0, run.stderr);
  for (const out of outputs) {
    sh('nix-store', ['--verify-path', out]);
    const localHash = Hash.parse(sh('nix-store', ['-q', '--hash', out]).trim()).encode('base16');
    assert.equal(localHash, await client.narSha256Hex(out));
  }
});
