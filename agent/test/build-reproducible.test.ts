/**
 * The farm's sandboxed builder against the real Nix: derivations instantiated by nix-instantiate
 * are built in dependency order by buildDerivation (each resolved to a BasicDerivation the way
 * Nix's build hook does), and every output's path, NAR hash and references must equal what
 * `nix-store --realise` produced for the same derivations on this machine.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { existsSync, readFileSync } from 'node:fs';
import { basename, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseDerivation, resolveBasicDerivation, type Derivation } from '@farm/nix';
import { buildDerivation, type BuiltOutput } from '../src/index.js';
import { HOST_SANDBOX_PATHS, lines, makeScratch, nix, type Scratch } from './fixtures/build-helpers.js';

const T = { timeout: 50_000 };
const REPO = fileURLToPath(new URL('../../../', import.meta.url));
const FIXTURES = fileURLToPath(new URL('../../test/fixtures/', import.meta.url));

/** Every .drv reachable from `roots`, inputs before their dependents. */
function topoOrder(roots: readonly string[]): { order: string[]; drvs: Map<string, Derivation> } {
  const drvs = new Map<string, Derivation>();
  const order: string[] = [];
  const visit = (root: string) => {
    // Iterative post-order DFS.
    const stack: { path: string; expanded: boolean }[] = [{ path: root, expanded: false }];
    while (stack.length > 0) {
      const top = stack.pop()!;
      if (top.expanded) {
        if (!order.includes(top.path)) order.push(top.path);
        continue;
      }
      if (drvs.has(top.path)) continue;
      const drv = parseDerivation(readFileSync(top.path));
      drvs.set(top.path, drv);
      stack.push({ path: top.path, expanded: true });
      for (const input of drv.inputDrvs.keys()) if (!drvs.has(input)) stack.push({ path: input, expanded: false });
    }
  };
  for (const r of roots) visit(r);
  return { order, drvs };
}

interface Comparison {
  readonly drvPath: string;
  readonly ours: BuiltOutput;
  readonly nixHash: string;
  readonly nixRefs: string[];
}

async function buildLikeNix(s: Scratch, file: string, attr: string): Promise<Comparison[]> {
  const roots = lines(nix('nix-instantiate', [file, '-A', attr]));
  assert.ok(roots.length > 0, `nix-instantiate ${file} -A ${attr} gave no derivations`);
  const { order, drvs } = topoOrder(roots);
  const features = new Set(['benchmark', 'big-parallel']);
  for (const d of drvs.values()) for (const f of (d.env.get('requiredSystemFeatures') ?? '').split(/\s+/)) if (f !== '') features.add(f);
  const realised = lines(nix('nix-store', ['--realise', ...order, '--option', 'substituters', '', '--option', 'system-features', [...features].join(' ')]));

  const references = new Map<string, readonly string[]>();
  const copySource = (src: string) => {
    for (const p of lines(nix('nix-store', ['-qR', src]))) {
      if (!references.has(p)) references.set(p, lines(nix('nix-store', ['-q', '--references', p])));
      if (!existsSync(join(s.storeRoot, basename(p)))) execFileSync('cp', ['-a', p, join(s.storeRoot, basename(p))]);
    }
  };
  const comparisons: Comparison[] = [];
  for (const drvPath of order) {
    const drv = drvs.get(drvPath)!;
    for (const src of drv.inputSrcs) copySource(src);
    const inputOutputPaths = new Map([...drv.inputDrvs.keys()].map((d) => [d, new Map([...drvs.get(d)!.outputs].map(([n, o]) => [n, o.path]))]));
    const basic = resolveBasicDerivation(drv, { inputOutputPaths, references });
    const r = await buildDerivation(
      { drvPath, drv: basic, storeRoot: s.storeRoot, inputClosure: basic.inputSrcs, sandboxPaths: HOST_SANDBOX_PATHS, cores: 1, workDir: s.workDir },
      { onLog: () => {} },
    );
    assert.equal(r.status, 'built', `${drvPath}: ${r.message}\n${r.logTail.join('\n')}`);
    for (const o of r.outputs) {
      references.set(o.path, o.references);
      comparisons.push({
        drvPath,
        ours: o,
        nixHash: nix('nix-store', ['-q', '--hash', o.path]).trim(),
        nixRefs: lines(nix('nix-store', ['-q', '--references', o.path])).sort(),
      });
    }
  }
  assert.deepEqual(comparisons.map((c) => c.ours.path).sort(), [...new Set(realised)].sort(), 'the same output paths as nix-store --realise');
  return comparisons;
}

function assertSameAsNix(comparisons: readonly Comparison[]): void {
  for (const c of comparisons) {
    assert.equal(c.ours.narHash.toPrefixed('nix32'), c.nixHash, `NAR hash of ${c.ours.path} (${c.drvPath})`);
    assert.deepEqual([...c.ours.references].sort(), c.nixRefs, `references of ${c.ours.path}`);
  }
}

test('examples/dag built in the sandbox equals nix-store --realise: paths, NAR hashes, references', T, async () => {
  const s = makeScratch();
  try {
    const comparisons = await buildLikeNix(s, join(REPO, 'examples/dag/default.nix'), 'all');
    assert.ok(comparisons.length >= 4);
    assertSameAsNix(comparisons);
    for (const c of comparisons) {
      assert.ok(existsSync(join(s.storeRoot, basename(c.ours.path))), `${c.ours.path} is in the store root`);
      assert.equal(c.ours.narSize, Number(nix('nix-store', ['-q', '--size', c.ours.path]).trim()));
    }
  } finally {
    s.remove();
  }
});

test('multiple outputs: dev refers to out and itself, out to its input and source; passAsFile works', T, async () => {
  const s = makeScratch();
  try {
    const comparisons = await buildLikeNix(s, join(FIXTURES, 'multi-output.nix'), 'all');
    assertSameAsNix(comparisons);
    const byName = new Map(comparisons.map((c) => [basename(c.ours.path).slice(33), c.ours]));
    const out = byName.get('mo-multi')!;
    const dev = byName.get('mo-multi-dev')!;
    const dep = byName.get('mo-dep')!;
    assert.ok(out.references.includes(dep.path), 'out refers to its input');
    assert.ok(out.references.some((r) => r.endsWith('-multi-output-src.txt')), 'out refers to its source');
    assert.deepEqual([...dev.references].sort(), [out.path, dev.path].sort(), 'dev refers to out and to itself');
    assert.equal(readFileSync(join(s.storeRoot, basename(out.path), 'big-text'), 'utf8'), 'passed as a file, not in the environment');
  } finally {
    s.remove();
  }
});
