/**
 * --copy-back with the real Nix store: paths the stub coordinator serves as NARs (dumped from
 * real store paths that were then deleted) are imported with `nix-store --import`, registered
 * with the right references and deriver, and accepted by `nix-store --verify-path`.
 *   1. copyBack() on a `nix-store --add` path (no references);
 *   2. `farm submit --copy-back` of a two-derivation closure where the root's output refers to
 *      its dependency's output, which the local store lacks too and is fetched as well.
 */
import { after, test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { copyBack } from '../src/client/copy-back.js';
import { FarmClient } from '../src/client/coordinator-client.js';
import { startStubCoordinator } from './fixtures/stub-coordinator.js';
import { runFarm } from './fixtures/stub-coordinator-run.js';

const scratch = mkdtempSync(join(tmpdir(), 'farm-copy-back-'));
const toDelete: string[] = [];
after(() => {
  // Outputs first, then what they were built from; anything still referenced simply stays.
  for (const p of toDelete.reverse()) spawnSync('nix-store', ['--delete', p], { encoding: 'utf8' });
  rmSync(scratch, { recursive: true, force: true });
});

function nixStore(...args: string[]): string {
  const r = spawnSync('nix-store', args, { encoding: 'utf8', maxBuffer: 64 * 1024 * 1024 });
  assert.equal(r.status, 0, `nix-store ${args.join(' ')}: ${r.stderr}`);
  return r.stdout.trim();
}
function dump(path: string): Buffer {
  const r = spawnSync('nix-store', ['--dump', path], { maxBuffer: 64 * 1024 * 1024 });
  assert.equal(r.status, 0, r.stderr.toString());
  return r.stdout;
}
function isValid(path: string): boolean {
  return spawnSync('nix-store', ['--check-validity', path]).status === 0;
}

test('copyBack imports a deleted `nix-store --add` path from the farm and nix-store --verify-path accepts it', async () => {
  const file = join(scratch, `copy-back-${randomBytes(6).toString('hex')}.txt`);
  writeFileSync(file, `farm copy-back test ${randomBytes(16).toString('hex')}\n`);
  const path = nixStore('--add', file);
  toDelete.push(path);
  const hash = nixStore('-q', '--hash', path);
  const nar = dump(path);
  nixStore('--delete', path);
  assert.equal(isValid(path), false);

  const stub = await startStubCoordinator({ nars: new Map([[path, nar]]) });
  const client = new FarmClient({ address: stub.address, source: 'flag', origin: 'from --coordinator' });
  try {
    const result = await copyBack(client, [path], { candidatesFor: () => [], deriverOf: () => '' });
    assert.deepEqual(result.imported.map((p) => [p.path, p.narHash, p.narSize, p.references]), [[path, hash, nar.length, []]]);
    assert.deepEqual(stub.narRequests, [path]);
    nixStore('--verify-path', path);
    assert.equal(nixStore('-q', '--hash', path), hash);

    // Already valid now: nothing is fetched again.
    const again = await copyBack(client, [path], { candidatesFor: () => [], deriverOf: () => '' });
    assert.deepEqual(again, { imported: [], alreadyValid: [path] });
    assert.equal(stub.narRequests.length, 1);
  } finally {
    client.close();
    await stub.close();
  }
});

test('farm submit --copy-back fetches the root output and the dependency it refers to, in reference order', async () => {
  const salt = randomBytes(8).toString('hex');
  const nixFile = join(scratch, 'copy-back.nix');
  writeFileSync(
    nixFile,
    `let
  mk = name: script: derivation { inherit name; system = builtins.currentSystem; builder = "/bin/sh"; args = [ "-c" script ]; PATH = "/usr/bin:/bin"; };
  dep = mk "cb-dep-${salt}" "echo ${salt} > $out";
  top = mk "cb-top-${salt}" "mkdir $out; echo \${dep} > $out/ref; echo hi > $out/file; ln -s \${dep} $out/link";
in { inherit dep top; }
`,
  );
  const topDrv = spawnSync('nix-instantiate', [nixFile, '-A', 'top'], { encoding: 'utf8' }).stdout.trim();
  const depDrv = spawnSync('nix-instantiate', [nixFile, '-A', 'dep'], { encoding: 'utf8' }).stdout.trim();
  assert.match(topDrv, /\.drv$/);
  const [topOut] = nixStore('--realise', '--option', 'substituters', '', topDrv).split('\n');
  const depOut = nixStore('-q', '--outputs', depDrv);
  toDelete.push(topDrv, depDrv, depOut, topOut!);
  assert.deepEqual(nixStore('-q', '--references', topOut!).split('\n'), [depOut]);
  const hashes = { top: nixStore('-q', '--hash', topOut!), dep: nixStore('-q', '--hash', depOut) };
  const nars = new Map([
    [topOut!, dump(topOut!)],
    [depOut, dump(depOut)],
  ]);
  nixStore('--delete', topOut!);
  nixStore('--delete', depOut);
  assert.ok(!isValid(topOut!) && !isValid(depOut));

  const jobId = (d: string) => d.slice(11, 43);
  const stub = await startStubCoordinator({
    present: [topDrv, depDrv],
    nars,
    events: () => [
      { jobId: jobId(depDrv), drvPath: depDrv, state: 'JOB_STATE_SUCCEEDED', outputs: { out: depOut } },
      { jobId: jobId(topDrv), drvPath: topDrv, state: 'JOB_STATE_SUCCEEDED', outputs: { out: topOut! } },
      { final: true, reason: '2 succeeded' },
    ],
  });
  try {
    const r = await runFarm(['submit', '--coordinator', stub.address, '--copy-back', '-f', nixFile, '-A', 'top']);
    assert.equal(r.status, 0, r.stderr);
    assert.equal(r.stdout, `top -> ${topOut}\n`);
    assert.deepEqual(stub.narRequests, [topOut, depOut]);
    assert.match(r.stderr, /imported 2 paths into the local store/);
    assert.equal(stub.uploads.length, 0, 'the farm had every drv already');
  } finally {
    await stub.close();
  }
  nixStore('--verify-path', topOut!);
  nixStore('--verify-path', depOut);
  assert.equal(nixStore('-q', '--hash', topOut!), hashes.top);
  assert.equal(nixStore('-q', '--hash', depOut), hashes.dep);
  assert.deepEqual(nixStore('-q', '--references', topOut!).split('\n'), [depOut]);
  assert.equal(nixStore('-q', '--deriver', topOut!), topDrv);
  assert.equal(nixStore('-q', '--deriver', depOut), depDrv);
});
