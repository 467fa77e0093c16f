import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { copyFileSync, mkdirSync, writeFileSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { makeTempDir } from '../src/index.js';

const repoRoot = resolve(dirname(fileURLToPath(import.meta.url)), '..', '..', '..');
const depcruise = join(repoRoot, 'node_modules', '.bin', 'depcruise');

/** Lays out a miniature repo with the real rules and the given files, and runs the cruiser. */
async function cruise(files: Record<string, string>) {
  await using dir = await makeTempDir('farm-depcruise-');
  for (const f of ['.dependency-cruiser.cjs', 'tsconfig.base.json', 'tsconfig.depcruise.json']) copyFileSync(join(repoRoot, f), join(dir.path, f));
  for (const [path, text] of Object.entries(files)) {
    mkdirSync(dirname(join(dir.path, path)), { recursive: true });
    writeFileSync(join(dir.path, path), text);
  }
  const dirs = [...new Set(Object.keys(files).map((p) => p.split('/')[0]!))];
  const r = spawnSync(depcruise, ['--config', '.dependency-cruiser.cjs', ...dirs], { cwd: dir.path, encoding: 'utf8' });
  return { status: r.status, out: r.stdout + r.stderr };
}

test('the real repository has no import-direction violations', () => {
  const dirs = ['nix', 'proto', 'common', 'coordinator', 'agent', 'cli', 'testkit', 'chaos-tests', 'bench'];
  const r = spawnSync(depcruise, ['--config', '.dependency-cruiser.cjs', ...dirs], { cwd: repoRoot, encoding: 'utf8' });
  assert.equal(r.status, 0, r.stdout + r.stderr);
});

test('the agent importing the coordinator fails the check', async () => {
  const r = await cruise({
    'coordinator/src/index.ts': 'export const core = 1;\n',
    'agent/src/index.ts': "import { core } from '@farm/coordinator';\nexport const x = core;\n",
  });
  assert.notEqual(r.status, 0);
  assert.match(r.out, /agent-never-imports-coordinator-or-cli/);
});

test('nix importing common, or a cycle, fails the check', async () => {
  const r = await cruise({
    'common/src/index.ts': "import { n } from '@farm/nix';\nexport const c = n;\n",
    'nix/src/index.ts': "import { c } from '@farm/common';\nexport const n = 1; export const y = c;\n",
  });
  assert.notEqual(r.status, 0);
  assert.match(r.out, /nix-is-a-leaf/);
  assert.match(r.out, /no-circular/);
});

test('I/O in the coordinator core fails the check', async () => {
  const r = await cruise({ 'coordinator/src/core/clock.ts': "import { readFileSync } from 'node:fs';\nexport const f = readFileSync;\n" });
  assert.notEqual(r.status, 0);
  assert.match(r.out, /coordinator-core-is-pure/);
});
