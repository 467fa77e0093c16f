/**
 * Cross-check against the real Nix 2.8: one generated `.nix` file with ~150 random derivations
 * (random-derivations.ts) is instantiated into a chroot store by nix-instantiate; for every
 * `.drv` Nix wrote we check that parse → serialise is byte-identical, that our drv path and
 * every output path equal Nix's, and that `nix show-derivation` (one batched call) equals our
 * JSON. Also instantiates shared/vectors/nix/default.nix and checks it reproduces
 * derivations.json. The seed is printed in every failure message (FARM_XCHECK_SEED reruns it).
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync, readdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import {
  classifyOutputs,
  computeOutputPaths,
  derivationNameFromPath,
  derivationPath,
  parseDerivation,
  serialiseDerivationBytes,
  showDerivations,
  verifyDerivation,
  type Derivation,
  type DrvHashMemo,
} from '../src/index.js';
import { loadDerivationVectors, resolverFromChroot } from './derivation-fixtures.js';
import { makeTempDir, runNix } from './nix-tool.js';
import { generateDerivations } from './random-derivations.js';
import { vectorPath } from './vectors.js';

const NIX = ['--extra-experimental-features', 'nix-command'];

function instantiate(storeRoot: string, file: string): string[] {
  return runNix('nix-instantiate', ['--store', storeRoot, '--option', 'substituters', '', file])
    .split('\n')
    .filter((l) => l !== '')
    // A derivation whose first output is not `out` is printed as `<drv>!<output>`.
    .map((l) => l.replace(/!.*$/, ''));
}

test('nix-instantiate of vectors/nix/default.nix reproduces every derivations.json drv byte for byte', () => {
  const tmp = makeTempDir('farm-xcheck-vectors-');
  try {
    const store = join(tmp.dir, 'store');
    const printed = instantiate(store, vectorPath('nix/default.nix'));
    const vectors = Object.values(loadDerivationVectors().derivations);
    assert.deepEqual([...printed].sort(), vectors.map((v) => v.drvPath).sort());
    for (const v of vectors) {
      const bytes = readFileSync(join(store, v.drvPath));
      assert.equal(bytes.toString('utf8'), v.aterm, v.attr);
      assert.deepEqual(Buffer.from(serialiseDerivationBytes(parseDerivation(bytes))), bytes, v.attr);
    }
  } finally {
    tmp.dispose();
  }
});

test('~150 random derivations: byte-exact round trip, drv and output paths, show-derivation JSON equal Nix 2.8', async () => {
  const seed = process.env['FARM_XCHECK_SEED'] !== undefined ? Number(process.env['FARM_XCHECK_SEED']) : Math.floor(Math.random() * 2 ** 31);
  const why = (what: string) => `${what} (seed ${seed}; rerun with FARM_XCHECK_SEED=${seed})`;
  const generated = generateDerivations(seed, 150);
  const tmp = makeTempDir('farm-xcheck-');
  try {
    const file = join(tmp.dir, 'random.nix');
    writeFileSync(file, generated.expression);
    const store = join(tmp.dir, 'store');
    const printed = instantiate(store, file);
    assert.equal(printed.length, generated.count, why('nix-instantiate printed one drv per attribute'));
    const drvPaths = readdirSync(join(store, 'nix', 'store'))
      .filter((n) => n.endsWith('.drv'))
      .map((n) => `/nix/store/${n}`);
    assert.deepEqual([...drvPaths].sort(), [...new Set(printed)].sort(), why('store holds exactly the printed drvs'));

    const resolve = resolverFromChroot(store);
    const memo: DrvHashMemo = new Map();
    const parsed: [string, Derivation][] = [];
    const coverage = { fixedFlat: 0, fixedRecursive: 0, algos: new Set<string>(), multi: 0, inputDrvs: 0, inputSrcs: 0, escapes: 0 };
    for (const drvPath of drvPaths) {
      const bytes = readFileSync(join(store, drvPath));
      const drv = parseDerivation(bytes);
      parsed.push([drvPath, drv]);
      assert.deepEqual(Buffer.from(serialiseDerivationBytes(drv)), bytes, why(`round trip of ${drvPath}`));
      const name = derivationNameFromPath(drvPath);
      assert.equal(derivationPath(drv, name), drvPath, why(`drv path of ${drvPath}`));
      const outputs = await computeOutputPaths(drv, name, resolve, { memo });
      for (const [o, p] of outputs) assert.equal(p, drv.outputs.get(o)!.path, why(`output ${o} of ${drvPath}`));
      assert.deepEqual(await verifyDerivation(drvPath, drv, resolve, { memo }), [], why(`verifyDerivation ${drvPath}`));
      for (const k of classifyOutputs(drv).values()) {
        if (k.kind === 'fixed') {
          coverage[k.method === 'flat' ? 'fixedFlat' : 'fixedRecursive']++;
          coverage.algos.add(k.hash.algo);
        }
      }
      if (drv.outputs.size > 1) coverage.multi++;
      if (drv.inputDrvs.size > 0) coverage.inputDrvs++;
      if (drv.inputSrcs.length > 0) coverage.inputSrcs++;
      if (bytes.includes('\\n') || bytes.includes('\\"')) coverage.escapes++;
    }
    assert.ok(coverage.fixedFlat > 0 && coverage.fixedRecursive > 0 && coverage.algos.size === 3, why(`fixed-output coverage ${JSON.stringify([...coverage.algos])}`));
    assert.ok(coverage.multi > 5 && coverage.inputDrvs > 50 && coverage.inputSrcs > 20 && coverage.escapes > 50, why(`coverage ${JSON.stringify(coverage, (_k, v) => (v instanceof Set ? [...v] : v))}`));

    const nixJson = JSON.parse(runNix('nix', [...NIX, 'show-derivation', '--store', store, ...drvPaths])) as unknown;
    assert.deepEqual(JSON.parse(JSON.stringify(showDerivations(parsed))), nixJson, why('nix show-derivation JSON'));
  } catch (e) {
    if (e instanceof Error && !e.message.includes(`seed ${seed}`)) e.message = `${e.message} (seed ${seed})`;
    throw e;
  } finally {
    tmp.dispose();
  }
});
