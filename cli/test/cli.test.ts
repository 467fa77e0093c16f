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

test('a command group lists its subcommands, with or without --help', () => {
  for (const args of [['nar'], ['nar', '--help'], ['nar', '-h']]) {
    const r = farm(...args);
    assert.equal(r.status, 0, `${args.join(' ')}: ${r.stderr}`);
    for (const sub of ['dump', 'hash', 'unpack']) assert.match(r.stdout, new RegExp(`farm nar ${sub} `));
  }
  const drv = farm('drv', '--help');
  assert.equal(drv.status, 0, drv.stderr);
  assert.match(drv.stdout, /farm drv show/);
});
