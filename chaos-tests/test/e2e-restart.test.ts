/**
 * An acknowledged submission is never lost: `farm up` is stopped (Ctrl-C) in the middle of a
 * build chain and started again on the same state directory; the submission is still there and
 * completes, and every derivation of it ends up built exactly once in the farm's records
 * (a build interrupted by the stop may be recorded as re-run only if its result was never
 * accepted). Also: SIGKILL of the whole farm (no clean shutdown) loses nothing either.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { join } from 'node:path';
import { makeTempDir, REPO_ROOT, runFarm, startFarmUp } from '@farm/testkit';
import { eventually, FarmClient } from '../src/index.js';

const SLOW_CHAIN = join(REPO_ROOT, 'chaos-tests', 'test', 'fixtures', 'slow-chain.nix');

function instantiate(dir: string, salt: string): string {
  const out = execFileSync('nix-instantiate', [SLOW_CHAIN, '-A', 'top', '--argstr', 'salt', salt, '--add-root', join(dir, `gc-${salt}`), '--indirect'], { encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'] });
  return execFileSync('readlink', ['-f', out.trim()], { encoding: 'utf8' }).trim();
}

async function submitNoWait(stateDir: string, drv: string): Promise<string> {
  const run = await runFarm(['submit', '--no-wait', '--json', drv], { env: { FARM_STATE_DIR: stateDir, FARM_COORDINATOR: '' } });
  assert.equal(run.code, 0, run.stderr);
  const submitted = run.stdout
    .split('\n')
    .filter((l) => l !== '')
    .map((l) => JSON.parse(l) as { type?: string; submissionId?: string })
    .find((e) => e.type === 'submitted');
  assert.ok(submitted?.submissionId);
  return submitted.submissionId;
}

for (const how of ['Ctrl-C', 'SIGKILL'] as const) {
  test(`a submission survives ${how} of farm up mid-build and completes after the restart`, async () => {
    const dir = await makeTempDir('farm-restart-');
    const stateDir = join(dir.path, 'state');
    try {
      const drv = instantiate(dir.path, `restart-${how}-${Date.now()}`);
      let farm = await startFarmUp({ stateDir, args: ['--agents', '1', '--max-jobs', '1'] });
      const sub = await submitNoWait(stateDir, drv);
      let client = new FarmClient(farm.grpc);
      // Stop once part of the chain has been built, before the end.
      await eventually(async () => assert.ok((await client.builds()).length >= 2), 60_000, 100);
      client.close();
      if (how === 'Ctrl-C') assert.equal(await farm.stop(), 0);
      else await farm.kill();

      farm = await startFarmUp({ stateDir, args: ['--agents', '1', '--max-jobs', '1'] });
      client = new FarmClient(farm.grpc);
      try {
        const summary = await eventually(async () => {
          const s = (await client.status(sub)).submissions.find((x) => x.submissionId === sub);
          assert.ok(s?.done, `submission ${sub} is done`);
          return s;
        }, 90_000, 200);
        assert.equal(summary.failed, 0);
        assert.equal(summary.succeeded, 6);
        const builds = await client.builds();
        const perDrv = new Map<string, number>();
        for (const b of builds) if (b.status === 'built') perDrv.set(b.drvPath, (perDrv.get(b.drvPath) ?? 0) + 1);
        assert.equal(perDrv.size, 6, 'all six links were built');
        for (const [d, n] of perDrv) assert.equal(n, 1, `${d} has one accepted build`);
        // And the CLI can still watch it to the end.
        const watched = await runFarm(['submit', drv], { env: { FARM_STATE_DIR: stateDir, FARM_COORDINATOR: '' } });
        assert.equal(watched.code, 0, watched.stderr);
      } finally {
        client.close();
        await farm.stop();
      }
    } finally {
      await dir.remove();
    }
  });
}
