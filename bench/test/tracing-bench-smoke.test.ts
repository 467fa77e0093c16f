/**
 * Smoke test of the tracing benchmark on a tiny DAG (2 layers × 3): one run of the farm with
 * tracing off and on, so the harness keeps working and "on" really exports (every process of the
 * farm sends OTLP to the benchmark's sink) while "off" sends nothing. No timing assertions.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { formatTracingBench, runTracingBench } from '../src/tracing-bench.js';

test('the tracing benchmark builds a tiny DAG with tracing off and on; only "on" exports spans', { timeout: 180_000 }, async () => {
  const r = await runTracingBench({ layers: 2, width: 3, agents: 2, maxJobs: 1, runs: 1 });
  assert.equal(r.derivations, 6);
  const [run] = r.runs;
  assert.deepEqual(run?.map((s) => s.side).sort(), ['off', 'on']);
  for (const side of run!) assert.equal(side.builds, 6, `${side.side}: every derivation built`);
  const on = run!.find((s) => s.side === 'on')!;
  const off = run!.find((s) => s.side === 'off')!;
  assert.ok(on.exports > 0 && on.exportBytes > 0, 'tracing on: the farm exported spans');
  assert.equal(off.exports, 0, 'tracing off: nothing exported');
  assert.ok(Number.isFinite(r.onOverOff) && r.onOverOff > 0);
  assert.match(formatTracingBench(r), /on \/ off/);
});
