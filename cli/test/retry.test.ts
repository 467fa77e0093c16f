/**
 * `farm retry` end to end: the real `farm` binary against a real `farm up` (NATS, coordinator,
 * one local agent with bubblewrap) on two real derivations — `flaky`, whose builder fails until
 * a marker file exists in a directory bound into the sandbox, and `top`, which needs it. The
 * failure is cached (a new submission fails at once); `farm retry <submission>` builds flaky
 * again (it runs, and fails again), `--json` starts with the `retried` event; a dependency-failed
 * drv names the input to retry; once the marker exists `farm retry <drv>` builds flaky and top
 * and prints top's output; a submission with nothing failed cannot be retried.
 */
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { makeTempDir, runFarm, startFarmUp, type FarmUp, type TempDir } from '@farm/testkit';

let dir: TempDir | undefined;
let farm: FarmUp | undefined;
let markerDir = '';
const drv = { flaky: '', top: '' };
const env = (): NodeJS.ProcessEnv => ({ FARM_STATE_DIR: farm!.stateDir, FARM_COORDINATOR: '' });
const farmCmd = (args: string[]) => runFarm(args, { env: env(), timeoutMs: 45_000 });

before(async () => {
  dir = await makeTempDir('farm-retry-');
  markerDir = join(dir.path, 'marker');
  mkdirSync(markerDir);
  // Unique per run, so no store anywhere already has their outputs.
  const salt = randomBytes(6).toString('hex');
  const file = join(dir.path, 'retry.nix');
  writeFileSync(
    file,
    `let
  sys = builtins.currentSystem;
  flaky = derivation {
    name = "retry-flaky-${salt}";
    system = sys;
    builder = "/bin/sh";
    args = [ "-c" "if [ -e /retry-marker/ok ]; then echo built > $out; else echo 'no marker yet' >&2; exit 3; fi" ];
  };
  top = derivation { name = "retry-top-${salt}"; system = sys; builder = "/bin/sh"; args = [ "-c" "echo top > $out" ]; dep = flaky; };
in { inherit flaky top; }
`,
  );
  const root = join(dir.path, 'gc-root');
  const out = execFileSync('nix-instantiate', [file, '-A', 'flaky', '-A', 'top', '--add-root', root, '--indirect'], { encoding: 'utf8' }).trim().split('\n');
  const [flaky, top] = out.map((p) => execFileSync('readlink', ['-f', p], { encoding: 'utf8' }).trim());
  assert.ok(flaky !== undefined && top !== undefined, out.join('\n'));
  drv.flaky = flaky;
  drv.top = top;
  const binds = ['/bin', '/usr', '/lib', '/lib64?', `/retry-marker=${markerDir}`].flatMap((p) => ['--sandbox-path', p]);
  farm = await startFarmUp({ stateDir: join(dir.path, 'state'), args: ['--agents', '1', '--max-jobs', '2', ...binds] });
});

after(async () => {
  const code = await farm?.stop();
  await dir?.remove();
  assert.equal(code ?? 0, 0, 'farm up stops cleanly');
});

type Line = Record<string, unknown> & { type: string };
const jsonLines = (stdout: string): Line[] => stdout.split('\n').filter((l) => l !== '').map((l) => JSON.parse(l) as Line);
const flakyFailure = (lines: Line[]) =>
  (lines.find((l) => l.type === 'summary')?.['failures'] as { drvPath: string; phase: string; reason: string }[] | undefined)?.find((f) => f.drvPath === drv.flaky);

test('farm retry builds a failed derivation and its dependent again; a cached failure does not', { timeout: 120_000 }, async () => {
  // The first build fails: flaky itself, top because of it.
  const first = await farmCmd(['submit', '--json', drv.top]);
  assert.equal(first.code, 1, first.stderr);
  const firstLines = jsonLines(first.stdout);
  const sub1 = String(firstLines.find((l) => l.type === 'submitted')?.['submissionId']);
  assert.equal(flakyFailure(firstLines)?.phase, 'failed');
  assert.doesNotMatch(flakyFailure(firstLines)!.reason, /cached failure/);

  // The same roots again: the cached failure, nothing runs.
  const cached = await farmCmd(['submit', '--json', drv.top]);
  assert.equal(cached.code, 1, cached.stderr);
  const cachedLines = jsonLines(cached.stdout);
  assert.match(flakyFailure(cachedLines)!.reason, /^cached failure from \d+ s ago \(farm retry runs it again\)/);
  assert.ok(!cachedLines.some((l) => l.type === 'job' && l['state'] === 'JOB_STATE_RUNNING'), 'nothing ran');

  // Retry the first submission: flaky runs again (and fails again: no marker yet); exit 1.
  const again = await farmCmd(['retry', '--json', sub1]);
  assert.equal(again.code, 1, again.stderr);
  const againLines = jsonLines(again.stdout);
  const retried = againLines[0]!;
  assert.equal(retried.type, 'retried');
  assert.deepEqual([retried['retryOf'], retried['retried'], retried['roots']], [sub1, [drv.flaky], [drv.top]]);
  const sub2 = String(retried['submissionId']);
  assert.notEqual(sub2, sub1);
  assert.equal(againLines[1]?.type, 'submitted');
  assert.ok(againLines.some((l) => l.type === 'job' && l['drvPath'] === drv.flaky && l['state'] === 'JOB_STATE_RUNNING'), 'flaky ran again');
  assert.doesNotMatch(flakyFailure(againLines)!.reason, /cached failure/);
  assert.equal(againLines.at(-1)?.type, 'summary');

  // top did not fail itself: the answer names flaky.
  const dep = await farmCmd(['retry', drv.top]);
  assert.equal(dep.code, 1);
  assert.equal(dep.stdout, '');
  assert.ok(dep.stderr.startsWith(`farm retry: job ${drv.top} did not fail itself but because its input ${drv.flaky} failed; retry that input instead: farm retry ${drv.flaky}`), dep.stderr);

  // Now flaky can build: retry it by drv path, with the roots of the newest submission (top).
  writeFileSync(join(markerDir, 'ok'), '');
  const fixed = await farmCmd(['retry', drv.flaky]);
  assert.equal(fixed.code, 0, fixed.stderr);
  const said = new RegExp(`^farm: retrying 1 failed derivation of ${sub2} as (\\S+): ${drv.flaky.replace(/[.]/g, '\\.')}$`, 'm').exec(fixed.stderr);
  assert.ok(said, fixed.stderr);
  const sub3 = said[1]!;
  const topOut = execFileSync('nix-store', ['-q', '--outputs', drv.top], { encoding: 'utf8' }).trim();
  assert.equal(fixed.stdout, `${drv.top} -> ${topOut}\n`);

  // Nothing of it failed: nothing to retry, and that is an error.
  const nothing = await farmCmd(['retry', sub3]);
  assert.equal(nothing.code, 1);
  assert.equal(nothing.stderr, `farm retry: submission ${sub3} has no failed jobs to retry\n`);
  const built = await farmCmd(['retry', drv.flaky]);
  assert.equal(built.code, 1);
  assert.match(built.stderr, /^farm retry: job \S+ is succeeded, not failed: only a failed job can be retried\n$/);
});

test('farm retry refuses unknown and malformed targets', { timeout: 60_000 }, async () => {
  const unknown = await farmCmd(['retry', 'sub_does_not_exist']);
  assert.equal(unknown.code, 1);
  assert.equal(unknown.stderr, 'farm retry: no submission sub_does_not_exist\n');
  const bad = await farmCmd(['retry', 'two words']);
  assert.equal(bad.code, 1);
  assert.match(bad.stderr, /^farm retry: target 'two words' is neither a submission id, a drv path nor a job id\n$/);
  const flags = await farmCmd(['retry', '--no-wait', '-L', 'sub_x']);
  assert.equal(flags.code, 1);
  assert.equal(flags.stderr, 'farm retry: --no-wait cannot be combined with --print-build-logs\n');
});
