/**
 * Smoke test of the throughput benchmark harness on a tiny DAG (2 layers × 3): the farm,
 * nix-store and nix-store with its sandbox all build it, every derivation is recorded once by the coordinator, and the ratio
 * and dispatch percentiles are numbers. No timing assertions.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { formatFarmBench, formatFarmBenchRuns, runFarmBench } from '../src/index.js';

test('the farm-vs-nix benchmark harness builds a tiny DAG both ways and reports a ratio', { timeout: 180_000 }, async () => {
  const r = await runFarmBench({ layers: 2, width: 3, agents: 2, maxJobs: 1 });
  assert.equal(r.derivations, 6);
  assert.equal(r.builds, 6);
  assert.ok(Number.isFinite(r.ratio) && r.ratio > 0);
  assert.ok(Number.isFinite(r.ratioSandboxed) && r.ratioSandboxed > 0, 'the sandboxed Nix run built the DAG too');
  for (const cpu of [r.farmCpuSeconds, r.nixCpuSeconds, r.nixSandboxedCpuSeconds]) assert.ok(Number.isFinite(cpu) && cpu >= 0);
  assert.ok(Number.isFinite(r.dispatchP50Ms) && Number.isFinite(r.dispatchP99Ms));
  assert.match(formatFarmBench(r), /Nix, sandboxed/);
  const twice = formatFarmBenchRuns([r, { ...r, ratio: r.ratio * 3, ratioSandboxed: r.ratioSandboxed * 3 }]);
  assert.match(twice, new RegExp(`Median of 2 runs: farm / Nix ${(r.ratio * 2).toFixed(2)}, farm / sandboxed Nix ${(r.ratioSandboxed * 2).toFixed(2)}`));
});
