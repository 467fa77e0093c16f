/**
 * The scheduling benchmark's DAG sources: generated shapes (deterministic per seed, topological,
 * well-formed drv paths, package names that repeat), the measures on a hand-made DAG, the Debian
 * parser and cycle breaking on inline fixtures, and the real package graph of this machine.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync } from 'node:fs';
import { writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { isFarmError } from '@farm/common';
import { makeTempDir } from '@farm/testkit';
import {
  breakCycles,
  criticalPathMs,
  debianDag,
  debianDagFromPackages,
  debianStoreName,
  debianStoreVersion,
  forkJoinDag,
  layeredDag,
  mixedSystemsDag,
  parseDebianPackages,
  totalWorkMs,
  validateDag,
  type SimDag,
  type SimJob,
} from '../src/index.js';

const DRV_PATH = /^\/nix\/store\/[0-9a-df-np-sv-z]{32}-.+\.drv$/;

/** Nix's rule (DrvName): the version starts at the first '-' not followed by a letter. */
function splitName(drvPath: string): { name: string; version: string } {
  const base = drvPath.slice('/nix/store/'.length + 33, -'.drv'.length);
  const m = /^(.*?)-(?![A-Za-z])(.*)$/.exec(base);
  return m === null ? { name: base, version: '' } : { name: m[1]!, version: m[2]! };
}

/** Independent of validateDag: every input is an earlier job, paths unique and well formed. */
function assertWellFormed(dag: SimDag): void {
  const seen = new Set<string>();
  for (const job of dag.jobs) {
    assert.match(job.drvPath, DRV_PATH);
    assert.ok(!seen.has(job.drvPath), `duplicate ${job.drvPath}`);
    for (const input of job.inputDrvs) assert.ok(seen.has(input), `${job.drvPath}: input ${input} comes later or is not a job`);
    assert.ok(job.durationMs > 0 && Number.isInteger(job.durationMs));
    assert.match(splitName(job.drvPath).version, /^[0-9]/, `${job.drvPath}: version must start with a digit`);
    seen.add(job.drvPath);
  }
  const inputs = new Set(dag.jobs.flatMap((j) => j.inputDrvs));
  assert.deepEqual(dag.roots, dag.jobs.filter((j) => !inputs.has(j.drvPath)).map((j) => j.drvPath));
}

function nameCounts(dag: SimDag): Map<string, number> {
  const counts = new Map<string, number>();
  for (const j of dag.jobs) {
    const { name } = splitName(j.drvPath);
    counts.set(name, (counts.get(name) ?? 0) + 1);
  }
  return counts;
}

const generators = { layeredDag, forkJoinDag, mixedSystemsDag } as const;

for (const [label, generate] of Object.entries(generators)) {
  test(`${label}: topological, well formed, exactly the asked size, deterministic for a seed`, () => {
    const a = generate({ seed: 7, jobs: 1500 });
    assert.equal(a.jobs.length, 1500);
    assertWellFormed(a);
    assert.deepEqual(generate({ seed: 7, jobs: 1500 }), a, 'same seed, same DAG');
    const b = generate({ seed: 8, jobs: 1500 });
    assertWellFormed(b);
    assert.notDeepEqual(b.jobs.map((j) => j.drvPath), a.jobs.map((j) => j.drvPath));
    // Package names repeat (the scheduler learns per versionless name), with similar durations.
    const counts = nameCounts(a);
    assert.ok([...counts.values()].filter((c) => c >= 2).length >= 50, 'many names are shared by several jobs');
    assert.ok(criticalPathMs(a) > 0 && criticalPathMs(a) <= totalWorkMs(a));
  });
}

test('generators: tiny sizes work and bad options are refused', () => {
  assertWellFormed(layeredDag({ seed: 1, jobs: 1 }));
  assertWellFormed(mixedSystemsDag({ seed: 1, jobs: 3, layers: 3 }));
  assertWellFormed(forkJoinDag({ seed: 1, jobs: 3, chain: 2 }));
  for (const bad of [() => layeredDag({ seed: 1, jobs: 0 }), () => layeredDag({ seed: 1.5, jobs: 10 }), () => forkJoinDag({ seed: 1, jobs: 10, chain: 10 })]) {
    assert.throws(bad, (e: unknown) => isFarmError(e, 'INVALID_ARGUMENT'));
  }
});

test('layeredDag: L layers deep, 1–3 inputs per job, durations between 1 s and 10 min', () => {
  const dag = layeredDag({ seed: 3, jobs: 1000, layers: 10 });
  const depth = new Map<string, number>();
  for (const j of dag.jobs) {
    assert.ok(j.durationMs >= 1000 && j.durationMs <= 600_000, `${j.durationMs}`);
    assert.equal(j.system, 'x86_64-linux');
    assert.deepEqual(j.requiredFeatures, []);
    const d = j.inputDrvs.length === 0 ? 0 : 1 + Math.max(...j.inputDrvs.map((i) => depth.get(i)!));
    depth.set(j.drvPath, d);
    if (d > 0) assert.ok(j.inputDrvs.length >= 1 && j.inputDrvs.length <= 3);
  }
  assert.equal(Math.max(...depth.values()), 9, 'ten layers: chains of ten jobs');
  assert.equal(dag.jobs.filter((j) => j.inputDrvs.length === 0).length, 100, 'the first layer has no inputs');
  // Log-normal-ish: a body of short jobs and a tail of long ones.
  const sorted = dag.jobs.map((j) => j.durationMs).sort((x, y) => x - y);
  assert.ok(sorted[500]! < 120_000 && sorted[990]! > 180_000, `median ${sorted[500]}, p99 ${sorted[990]}`);
});

test('forkJoinDag: a long chain of 1–5 min steps, short jobs off it, one joining root', () => {
  const dag = forkJoinDag({ seed: 5, jobs: 800 });
  const stages = dag.jobs.filter((j) => splitName(j.drvPath).name.startsWith('stage'));
  assert.ok(stages.length >= 20 && stages.length <= 40, `${stages.length} steps`);
  stages.forEach((s, i) => {
    assert.ok(s.durationMs >= 60_000 && s.durationMs <= 300_000);
    assert.deepEqual(s.inputDrvs, i === 0 ? [] : [stages[i - 1]!.drvPath]);
  });
  const chainMs = stages.reduce((sum, s) => sum + s.durationMs, 0);
  assert.equal(dag.roots.length, 1);
  const release = dag.jobs[dag.jobs.length - 1]!;
  assert.equal(splitName(release.drvPath).name, 'release');
  // The critical path is the chain plus the release step (short jobs off the last step may add a bit).
  assert.ok(criticalPathMs(dag) >= chainMs + release.durationMs);
  assert.ok(chainMs / criticalPathMs(dag) > 0.8, 'the chain dominates the critical path');
  const short = dag.jobs.filter((j) => j !== release && !stages.includes(j));
  assert.equal(short.length, 800 - stages.length - 1);
  for (const j of short) {
    assert.ok(j.durationMs >= 1000 && j.durationMs <= 30_000);
    assert.ok(j.inputDrvs.some((i) => stages.some((s) => s.drvPath === i)), 'hangs off a chain step');
  }
  // Oldest-first bait: the short jobs hanging off a step are listed before the next step.
  const position = new Map(dag.jobs.map((j, i) => [j.drvPath, i]));
  for (const j of short) {
    const step = stages.findIndex((s) => j.inputDrvs.includes(s.drvPath));
    const nextStep = stages[step + 1];
    if (nextStep !== undefined) assert.ok(position.get(j.drvPath)! < position.get(nextStep.drvPath)!);
  }
});

test('mixedSystemsDag: ~20 % aarch64-linux, ~5 % need `big`, inputs mostly of the same system', () => {
  const dag = mixedSystemsDag({ seed: 11, jobs: 4000 });
  const arm = dag.jobs.filter((j) => j.system === 'aarch64-linux').length / dag.jobs.length;
  const big = dag.jobs.filter((j) => j.requiredFeatures.includes('big')).length / dag.jobs.length;
  assert.ok(arm > 0.15 && arm < 0.25, `aarch64 share ${arm}`);
  assert.ok(big > 0.01 && big < 0.12, `big share ${big}`);
  for (const j of dag.jobs) assert.ok(['x86_64-linux', 'aarch64-linux'].includes(j.system));
  // `big` is a property of the package: every job of a family agrees.
  const bigByName = new Map<string, boolean>();
  for (const j of dag.jobs) {
    const { name } = splitName(j.drvPath);
    const isBig = j.requiredFeatures.includes('big');
    assert.equal(bigByName.get(name) ?? isBig, isBig, `${name}: big in some versions only`);
    bigByName.set(name, isBig);
  }
  const system = new Map(dag.jobs.map((j) => [j.drvPath, j.system]));
  const edges = dag.jobs.flatMap((j) => j.inputDrvs.map((i) => system.get(i) === j.system));
  assert.ok(edges.filter(Boolean).length / edges.length > 0.9);
});

test('criticalPathMs and totalWorkMs on a hand-made DAG; validateDag refuses broken ones', () => {
  const p = (c: string, name: string) => `/nix/store/${c.repeat(32)}-${name}-1.0.drv`;
  const job = (path: string, durationMs: number, inputDrvs: string[] = []): SimJob => ({ drvPath: path, system: 'x86_64-linux', requiredFeatures: [], inputDrvs, durationMs });
  //   a(5) ─┬─ b(10) ─┬─ d(1)
  //         └─ c(2) ──┘
  //   e(20)
  const [a, b, c, d, e] = [p('a', 'a'), p('b', 'b'), p('c', 'c'), p('d', 'd'), p('f', 'e')] as const;
  const dag: SimDag = { name: 'hand', jobs: [job(a, 5), job(b, 10, [a]), job(c, 2, [a]), job(d, 1, [b, c]), job(e, 20)], roots: [d, e] };
  validateDag(dag);
  assert.equal(criticalPathMs(dag), 20);
  assert.equal(totalWorkMs(dag), 38);
  const longer: SimDag = { ...dag, jobs: dag.jobs.map((j) => (j.drvPath === b ? { ...j, durationMs: 30 } : j)) };
  assert.equal(criticalPathMs(longer), 36);
  assert.equal(criticalPathMs({ name: 'empty', jobs: [], roots: [] }), 0);

  const outOfOrder: SimDag = { name: 'bad', jobs: [job(b, 10, [a]), job(a, 5)], roots: [b] };
  assert.throws(() => criticalPathMs(outOfOrder), (err: unknown) => isFarmError(err, 'INVALID_ARGUMENT'));
  assert.throws(() => validateDag(outOfOrder), (err: unknown) => isFarmError(err, 'INVALID_ARGUMENT'));
  assert.throws(() => validateDag({ ...dag, roots: [d] }), (err: unknown) => isFarmError(err, 'INVALID_ARGUMENT'));
  assert.throws(() => validateDag({ name: 'dup', jobs: [job(a, 1), job(a, 1)], roots: [a] }), (err: unknown) => isFarmError(err, 'INVALID_ARGUMENT'));
  assert.throws(() => validateDag({ name: 'e', jobs: [job('/nix/store/eeee-x.drv', 1)], roots: ['/nix/store/eeee-x.drv'] }), (err: unknown) => isFarmError(err, 'INVALID_ARGUMENT'));
});

const FIXTURE = `Package: app
Version: 1:2.0~rc1-3+b1
Installed-Size: 1000
Maintainer: Someone <a@example.org>
Pre-Depends: dpkg (>= 1.15.6~)
Depends: libfoo (>= 1.2) | libfoo-compat, mail-transport-agent | exim4, python3:any (>= 3.11~),
 libbar [amd64] <!nocheck>
Description: an application
 with a long description
 Depends: not-a-field (this is description text)

Package: libfoo
Version: 1.2-1
Installed-Size: 20
Depends: libc6 (>= 2.34)

Package: exim4
Version: 4.96-15
Depends: libc6

Package: libbar
Version: 0.9
Installed-Size: 7

Package: python3
Version: 3.11.2-1+b1
Installed-Size: 100
Depends: python3-minimal (= 3.11.2-1+b1), libc6

Package: python3-minimal
Version: 3.11.2-1+b1
Depends: python3
Description: second member of a 2-cycle: python3 <-> python3-minimal

Package: libc6
Version: 2.36-9+deb12u4
Installed-Size: 12000
Depends: libgcc-s1

Package: libgcc-s1
Version: 12.2.0-14
Depends: gcc-12-base (= 12.2.0-14)

Package: gcc-12-base
Version: 12.2.0-14
Depends: libc6

Package: dpkg
Version: 1.21.22
Installed-Size: 6000
`;

test('parseDebianPackages: alternatives, version constraints, :any, restrictions, continuation lines', () => {
  const pkgs = parseDebianPackages(FIXTURE);
  assert.deepEqual(
    pkgs.map((p) => p.name),
    ['app', 'libfoo', 'exim4', 'libbar', 'python3', 'python3-minimal', 'libc6', 'libgcc-s1', 'gcc-12-base', 'dpkg'],
  );
  const app = pkgs[0]!;
  assert.equal(app.version, '1:2.0~rc1-3+b1');
  assert.equal(app.installedSizeKiB, 1000);
  // Pre-Depends first; the description's "Depends:" line is a continuation, not a field.
  assert.deepEqual(app.depends, [['dpkg'], ['libfoo', 'libfoo-compat'], ['mail-transport-agent', 'exim4'], ['python3'], ['libbar']]);
  assert.equal(pkgs.find((p) => p.name === 'exim4')!.installedSizeKiB, 0);
  assert.deepEqual(parseDebianPackages('Package: x\r\nVersion: 1\r\nDepends: y\r\n\r\n'), [{ name: 'x', version: '1', installedSizeKiB: 0, depends: [['y']] }]);
  assert.deepEqual(parseDebianPackages('Version: 1\n\n\n'), []);
});

test('debianDagFromPackages: first real alternative, virtual packages dropped, cycles broken, store-legal names', () => {
  const dag = debianDagFromPackages(parseDebianPackages(FIXTURE));
  assertWellFormed(dag);
  const byName = new Map(dag.jobs.map((j) => [debianNameOf(j.drvPath), j]));
  const app = byName.get('app')!;
  assert.equal(splitName(app.drvPath).version, '2.0_rc1-3+b1', 'epoch dropped, ~ replaced');
  // mail-transport-agent is virtual (no stanza): its group falls to exim4; libfoo-compat never considered.
  assert.deepEqual(app.inputDrvs.map(debianNameOf).sort(), ['dpkg', 'exim4', 'libbar', 'libfoo', 'python3']);
  assert.equal(app.durationMs, 2000 + 10 * 1000);
  // The 3-cycle libc6 → libgcc-s1 → gcc-12-base → libc6 and the 2-cycle python3 ↔ python3-minimal
  // are broken: every job is present once, inputs precede jobs (checked above), and only one
  // edge of each cycle is gone (the search reaches libc6 first, from app via libfoo).
  assert.equal(dag.jobs.length, 10);
  const edges = (n: string) => byName.get(n)!.inputDrvs.map(debianNameOf);
  assert.deepEqual(edges('libc6'), ['libgcc-s1']);
  assert.deepEqual(edges('libgcc-s1'), ['gcc-12-base']);
  assert.deepEqual(edges('gcc-12-base'), []);
  assert.equal(edges('python3').includes('python3-minimal') !== edges('python3-minimal').includes('python3'), true);
  assert.equal(byName.get('libgcc-s1')!.drvPath.includes('-libgcc-s1-12.2.0-14.drv'), true);
  assert.equal(byName.get('gcc-12-base')!.drvPath.includes('-gcc_12-base-12.2.0-14.drv'), true, "a '-' before a digit would start the version");
  assert.deepEqual(debianDagFromPackages(parseDebianPackages(FIXTURE)), dag, 'deterministic');

  // maxJobs: a dependency-closed subset of at most maxJobs jobs.
  for (const maxJobs of [1, 3, 5, 9]) {
    for (const seed of [1, 2, 3]) {
      const sub = debianDagFromPackages(parseDebianPackages(FIXTURE), { maxJobs, seed });
      assertWellFormed(sub);
      assert.ok(sub.jobs.length >= 1 && sub.jobs.length <= maxJobs, `maxJobs ${maxJobs}: ${sub.jobs.length}`);
    }
  }
});

test('breakCycles: a 3-cycle loses exactly its back edge, and the order puts dependencies first', () => {
  // 0 → 1 → 2 → 0, plus 3 → 0 and 2 → 4.
  const { kept, order, cycles, droppedEdges } = breakCycles([[1], [2], [0, 4], [0], []]);
  assert.deepEqual(cycles, [[0, 1, 2]]);
  assert.equal(droppedEdges, 1);
  assert.deepEqual(kept, [[1], [2], [4], [0], []]);
  const pos = new Map(order.map((v, i) => [v, i]));
  assert.equal(order.length, 5);
  kept.forEach((deps, v) => deps.forEach((w) => assert.ok(pos.get(w)! < pos.get(v)!)));
});

test('Debian store names and versions follow Nix name rules', () => {
  assert.equal(debianStoreName('libsdl2-2.0-0'), 'libsdl2_2.0_0');
  assert.equal(debianStoreName('g++-12'), 'g++_12');
  assert.equal(debianStoreName('python3-minimal'), 'python3-minimal');
  assert.equal(debianStoreVersion('1:2.36-9+deb12u4'), '2.36-9+deb12u4');
  assert.equal(debianStoreVersion('2.0~rc1'), '2.0_rc1');
  assert.equal(debianStoreVersion('a1'), '0a1');
});

test('debianDag: a clear FAILED_PRECONDITION naming the directory when there is no Packages file', async () => {
  await using dir = await makeTempDir('farm-sim-dags-');
  await writeFile(join(dir.path, 'deb.example.org_dists_x_InRelease'), 'not a Packages file\n');
  assert.throws(
    () => debianDag({ listsDir: dir.path }),
    (e: unknown) => isFarmError(e, 'FAILED_PRECONDITION') && e.message.includes(dir.path),
  );
  assert.throws(
    () => debianDag({ listsDir: join(dir.path, 'missing') }),
    (e: unknown) => isFarmError(e, 'FAILED_PRECONDITION') && e.message.includes(join(dir.path, 'missing')),
  );
  // A plain (uncompressed) Packages file is read too.
  await writeFile(join(dir.path, 'deb.example.org_dists_x_main_binary-amd64_Packages'), FIXTURE);
  assert.equal(debianDag({ listsDir: dir.path }).jobs.length, 10);
});

test("debianDag on this machine's apt lists: ≥ 1000 jobs, acyclic and topological, deterministic", () => {
  assert.ok(existsSync('/var/lib/apt/lists'), 'the apt lists must exist (run apt-get update)');
  const dag = debianDag({ maxJobs: 2000 });
  assert.ok(dag.jobs.length >= 1000 && dag.jobs.length <= 2000, `${dag.jobs.length} jobs`);
  assertWellFormed(dag); // every input precedes its job: acyclic
  assert.ok(dag.jobs.some((j) => j.inputDrvs.length >= 5), 'real fan-in');
  assert.ok(criticalPathMs(dag) > 10_000);
  const again = debianDag({ maxJobs: 2000 });
  assert.deepEqual(again.jobs.map((j) => j.drvPath), dag.jobs.map((j) => j.drvPath));
  for (const j of dag.jobs) assert.ok(j.durationMs >= 2000 && j.durationMs <= 3_600_000);
});

function debianNameOf(drvPath: string): string {
  return splitName(drvPath).name.replace(/_/g, '-');
}
