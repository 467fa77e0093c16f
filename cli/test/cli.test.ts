import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { FARM_VERSION } from '../src/index.js';

const farmBin = fileURLToPath(new URL('../../bin/farm', import.meta.url));

function farm(...args: string[]) {
  return spawnSync(farmBin, args, { encoding: 'utf8' });
}

test('farm --version prints the package version', () => {
  const r = farm('--version');
  assert.equal(r.status, 0, r.stderr);
  assert.equal(r.stdout.trim(), FARM_VERSION);
});

test('farm --help lists the commands and exits 0', () => {
  const r = farm('--help');
  assert.equal(r.status, 0, r.stderr);
  assert.match(r.stdout, /farm/);
});

test('an unknown command fails with a message naming it', () => {
  const r = farm('no-such-command');
  assert.notEqual(r.status, 0);
  assert.match(r.stdout + r.stderr, /no-such-command|Command not found/);
});
