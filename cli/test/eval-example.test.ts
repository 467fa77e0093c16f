/**
 * examples/big-dag with the real Nix, no farm involved: `all` realises here (sandbox off, no
 * network), its closure has at least 40 derivations with every shape the farm's acceptance tests
 * rely on (chains, diamonds, two outputs with a `dev` dependent, flat and recursive fixed outputs,
 * big-parallel, an input source, a 100,000-line log), `failing` fails exactly its broken
 * derivation and dependents under --keep-going, and `aarch64` is for aarch64-linux. Realising
 * twice is a no-op, so after the first run this file takes about a second.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { parseDerivation, type Derivation } from '@farm/nix';

const exampleDir = fileURLToPath(new URL('../../../examples/big-dag', import.meta.url));

function run(cmd: string, args: string[]) {
  const r = spawnSync(cmd, args, { cwd: exampleDir, encoding: 'utf8', maxBuffer: 64 * 1024 * 1024 });
  if (r.error) throw r.error;
  return r;
}
function lines(s: string): string[] {
  return s.split('\n').filter((l) => l !== '');
}
function instantiate(attr: string): string[] {
  const r = run('nix-instantiate', ['default.nix', '-A', attr]);
  assert.equal(r.status, 0, r.stderr);
  return lines(r.stdout);
}

const allRoots = instantiate('all');
const closure = (() => {
  const r = run('nix-store', ['-qR', ...allRoots]);
  assert.equal(r.status, 0, r.stderr);
  return lines(r.stdout);
})();
const drvs = new Map<string, Derivation>(closure.filter((p) => p.endsWith('.drv')).map((p) => [p, parseDerivation(readFileSync(p))]));
const byName = (name: string): [string, Derivation] => {
  const hit = [...drvs].find(([p]) => p.endsWith(`-${name}.drv`));
  assert.ok(hit, `no derivation named ${name} in the closure of all`);
  return hit;
};

test('the closure of all has at least 40 derivations and one input source', () => {
  assert.ok(drvs.size >= 40, `only ${drvs.size} derivations`);
  assert.deepEqual(closure.filter((p) => !p.endsWith('.drv')).map((p) => p.replace(/^.*?-/, '')), ['seed.txt']);
  assert.equal(allRoots.length, 17);
});

test('it has chains, diamonds, two outputs with a dev dependent, fixed outputs and big-parallel', () => {
  const [, link7] = byName('chain-a-7');
  assert.deepEqual([...link7.inputDrvs.keys()].map((p) => p.replace(/^.*?-/, '')), ['chain-a-6.drv']);
  const [leftPath] = byName('diamond-1-left');
  const [rightPath] = byName('diamond-1-right');
  const [rootPath] = byName('diamond-1-root');
  const [, bottom] = byName('diamond-1-bottom');
  assert.deepEqual(new Set(bottom.inputDrvs.keys()), new Set([leftPath, rightPath]));
  assert.ok(drvs.get(leftPath)!.inputDrvs.has(rootPath) && drvs.get(rightPath)!.inputDrvs.has(rootPath));

  const [libPath, lib] = byName('multi-lib');
  assert.deepEqual([...lib.outputs.keys()].sort(), ['dev', 'out']);
  assert.deepEqual(byName('multi-use-dev')[1].inputDrvs.get(libPath), ['dev']);

  const flat = byName('fixed-flat')[1].outputs.get('out')!;
  const recursive = byName('fixed-recursive')[1].outputs.get('out')!;
  assert.equal(flat.hashAlgo, 'sha256');
  assert.equal(recursive.hashAlgo, 'r:sha256');

  const featured = [...drvs].filter(([, d]) => d.env.get('requiredSystemFeatures') === 'big-parallel');
  assert.equal(featured.length, 2);
  assert.ok([...drvs.values()].every((d) => d.system === 'x86_64-linux' && d.builder === '/bin/sh'));
});

test('nix-store --realise builds all, the logger logs 100,000 lines and a second realise builds nothing', () => {
  const first = run('nix-store', ['--realise', '--option', 'substituters', '', ...allRoots]);
  assert.equal(first.status, 0, first.stderr.slice(-4000));
  const [chattyDrv] = byName('logs-chatty');
  const log = run('nix-store', ['--read-log', chattyDrv]);
  assert.equal(log.status, 0, log.stderr);
  const logLines = lines(log.stdout);
  assert.equal(logLines.length, 100_000);
  assert.equal(logLines[0], 'log line 1');
  assert.equal(logLines[99_999], 'log line 100000');

  const again = run('nix-store', ['--realise', '--option', 'substituters', '', ...allRoots]);
  assert.equal(again.status, 0, again.stderr);
  assert.doesNotMatch(again.stderr, /building '/);
  assert.deepEqual(lines(again.stdout), lines(first.stdout));
  const [, useDev] = byName('multi-use-dev');
  assert.match(readFileSync(useDev.outputs.get('out')!.path, 'utf8'), /^#define FARM 1\n\/nix\/store\/[a-z0-9]{32}-multi-lib\n$/);
});

test('failing: broken and its dependents fail, the siblings build', () => {
  const failing = instantiate('failing');
  const r = run('nix-store', ['--realise', '--keep-going', '--option', 'substituters', '', ...failing]);
  assert.notEqual(r.status, 0);
  assert.match(r.stderr, /failing-broken\.drv' failed/);
  const outputOf = (drvPath: string) => parseDerivation(readFileSync(drvPath)).outputs.get('out')!.path;
  const valid = (p: string) => run('nix-store', ['--check-validity', p]).status === 0;
  const state = Object.fromEntries(failing.map((d) => [d.replace(/^.*?-failing-/, '').replace('.drv', ''), valid(outputOf(d))]));
  assert.deepEqual(state, { broken: false, dependent: false, dependent2: false, 'sibling-a': true, 'sibling-b': true });
});

test('aarch64.hello is an aarch64-linux derivation', () => {
  const [drvPath] = instantiate('aarch64.hello');
  assert.equal(parseDerivation(readFileSync(drvPath!)).system, 'aarch64-linux');
});
