/**
 * `farm explain` end to end: the real `farm` binary against a real `farm up` (NATS, coordinator,
 * one local agent), on a derivation for `riscv64-linux` — a system no local agent offers — built
 * by the real `nix-instantiate`. The job then waits for capacity: the human answer says so and
 * names what the agent offers, `--json` is one JSON object, bad arguments fail clearly.
 */
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { makeTempDir, runFarm, startFarmUp, type FarmUp, type TempDir } from '@farm/testkit';

let dir: TempDir | undefined;
let farm: FarmUp | undefined;
let drv = '';
const env = (): NodeJS.ProcessEnv => ({ FARM_STATE_DIR: farm!.stateDir, FARM_COORDINATOR: '' });
const hostSystem = execFileSync('nix-instantiate', ['--eval', '--expr', 'builtins.currentSystem'], { encoding: 'utf8' }).trim().replace(/"/g, '');

before(async () => {
  dir = await makeTempDir('farm-explain-');
  // Unique per run, so no store anywhere already has its output.
  const salt = randomBytes(6).toString('hex');
  const file = join(dir.path, 'riscv.nix');
  writeFileSync(file, `derivation { name = "explain-riscv-${salt}"; system = "riscv64-linux"; builder = "/bin/sh"; args = [ "-c" "echo hi > $out" ]; }\n`);
  const root = join(dir.path, 'gc-root');
  const out = execFileSync('nix-instantiate', [file, '--add-root', root, '--indirect'], { encoding: 'utf8' }).trim();
  drv = execFileSync('readlink', ['-f', out], { encoding: 'utf8' }).trim();
  farm = await startFarmUp({ stateDir: join(dir.path, 'state'), args: ['--agents', '1', '--max-jobs', '1', '--emulation', 'off'] });
});

after(async () => {
  const code = await farm?.stop();
  await dir?.remove();
  assert.equal(code ?? 0, 0, 'farm up stops cleanly');
});

test('farm explain says a riscv64-linux job waits for capacity and what the agents offer', { timeout: 60_000 }, async () => {
  const submitted = await runFarm(['submit', '--no-wait', drv], { env: env(), timeoutMs: 30_000 });
  assert.equal(submitted.code, 0, `farm submit failed:\n${submitted.stderr}`);

  const human = await runFarm(['explain', drv], { env: env(), timeoutMs: 30_000 });
  assert.equal(human.code, 0, human.stderr);
  const lines = human.stdout.split('\n');
  // The summary first: no connected agent builds riscv64-linux, and what they do offer.
  assert.match(lines[0]!, /^waiting for capacity: no connected agent builds for system 'riscv64-linux' \(connected agents offer: .*\)$/);
  assert.ok(lines[0]!.includes(hostSystem), lines[0]);
  assert.ok(lines.some((l) => /^derivation\s+/.test(l) && l.endsWith(drv)), human.stdout);
  assert.ok(lines.some((l) => /^state\s+ready \(attempts 0, epoch \d+\)$/.test(l)), human.stdout);
  // The agents' table: the local agent offers the host's system and does not fit.
  const table = lines.indexOf('agents:');
  assert.ok(table > 0, human.stdout);
  assert.match(lines[table + 1]!, /^\s+AGENT\s+SYSTEMS\s+FEATURES\s+BUSY\s+FITS$/);
  const agentRow = lines[table + 2]!;
  assert.ok(agentRow.includes(hostSystem) && /\s0\/1\s+no$/.test(agentRow), agentRow);

  // --json: one object, the same answer; the job id works as the argument too.
  const jobId = drv.slice('/nix/store/'.length, '/nix/store/'.length + 32);
  const json = await runFarm(['explain', '--json', jobId], { env: env(), timeoutMs: 30_000 });
  assert.equal(json.code, 0, json.stderr);
  const answer = JSON.parse(json.stdout) as {
    jobId: string;
    drvPath: string;
    state: string;
    summary: string;
    epoch: number;
    position: number;
    agents: { agentId: string; systems: string[]; fits: boolean; maxJobs: number; running: number }[];
  };
  assert.equal(answer.jobId, jobId);
  assert.equal(answer.drvPath, drv);
  assert.equal(answer.state, 'JOB_STATE_READY');
  assert.equal(answer.summary, lines[0]);
  assert.equal(typeof answer.epoch, 'number');
  assert.equal(answer.position, 0);
  assert.equal(answer.agents.length, 1);
  const agent = answer.agents[0]!;
  assert.deepEqual([agent.agentId, agent.fits, agent.maxJobs, agent.running], [farm!.agents[0], false, 1, 0]);
  assert.ok(agent.systems.includes(hostSystem));
});

test('farm explain refuses a bad argument and names a job it does not know', { timeout: 60_000 }, async () => {
  const bad = await runFarm(['explain', 'hello'], { env: env(), timeoutMs: 30_000 });
  assert.notEqual(bad.code, 0);
  assert.equal(bad.stdout, '');
  assert.match(bad.stderr, /^farm explain: 'hello' is neither a derivation \(\/nix\/store\/…-name\.drv\) nor a job id/);

  // Well formed, but the farm never saw it.
  const unknown = '/nix/store/0c5ch9zx8gqfnx5f8w2hfk3dzrz8v1yx-never-submitted.drv';
  const missing = await runFarm(['explain', unknown], { env: env(), timeoutMs: 30_000 });
  assert.notEqual(missing.code, 0);
  assert.equal(missing.stderr, `farm explain: no job for ${unknown}: it was never submitted, or its outputs were already valid\n`);
});
