/**
 * Smoke test of the NAR benchmark harness on tiny trees: it must produce ratios for both cases
 * and ours, `farm nar hash` and `nix-store --dump | sha256sum` must agree on the hash.
 * No timing assertions.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { formatTable, runNarBench } from '../src/index.js';

test('the NAR benchmark harness reports ratios and agreeing hashes on tiny trees', () => {
  const dir = mkdtempSync(join(tmpdir(), 'farm-nar-bench-smoke-'));
  try {
    const cases = runNarBench({ largeMiB: 3, smallCount: 300, reps: 2, dir });
    assert.equal(cases.length, 2);
    for (const c of cases) {
      assert.equal(c.hashesAgree, true, `${c.name}: hashes disagree`);
      assert.match(c.narHash, /^sha256:[0-9a-z]{52}$/);
      assert.ok(c.narSize > 0);
      assert.equal(c.nixSeconds.length, 2);
      assert.ok(Number.isFinite(c.ratioOurs) && c.ratioOurs > 0);
      assert.ok(Number.isFinite(c.ratioCli) && c.ratioCli > 0);
    }
    assert.match(formatTable(cases), /ours\/nix/);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});
