/**
 * addDerivation against the Nix 2.8 vectors (shared/vectors/derivations.json): every derivation —
 * input-addressed, multi-output, fixed-output (flat and recursive), with input sources — is
 * accepted in dependency order and stored as a valid text path plus its ATerm; tampered ones are
 * refused with the mismatching fields named, leaving the store unchanged.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import {
  derivationPath,
  makeTextPath,
  parseDerivation,
  serialiseDerivation,
  sha256,
  type Derivation,
} from '@farm/nix';
import type { LmdbFarmStore } from '../src/index.js';
import { chunked, infoFor, narOf, readAll, snapshot, withStore } from './store-fixtures.js';
import { readVectorJson } from '@farm/testkit';

interface Vector {
  drvPath: string;
  name: string;
  aterm: string;
  drvReferences: string[];
  outputs: Record<string, string>;
}
const vectors = Object.values(readVectorJson<{ derivations: Record<string, Vector> }>('derivations.json').derivations);
const byPath = new Map(vectors.map((v) => [v.drvPath, v]));

/** Inputs before dependents (depth-first post-order over drv references that are derivations). */
function dependencyOrder(): Vector[] {
  const out: Vector[] = [];
  const done = new Set<string>();
  const visit = (v: Vector) => {
    if (done.has(v.drvPath)) return;
    done.add(v.drvPath);
    for (const r of v.drvReferences) {
      const dep = byPath.get(r);
      if (dep !== undefined) visit(dep);
    }
    out.push(v);
  };
  vectors.forEach(visit);
  return out;
}

/** Non-derivation inputs of the vectors: `builtins.toFile "greeting.txt"`, a text path. */
async function addSources(store: LmdbFarmStore): Promise<void> {
  const text = 'hi there\n';
  const path = makeTextPath('greeting.txt', sha256(text));
  assert.ok(vectors.some((v) => v.drvReferences.includes(path)), 'the vectors still use greeting.txt');
  const nar = await narOf(text);
  await store.addPath(infoFor(path, nar, [], { ca: `text:${sha256(text).toPrefixed('nix32')}` }), chunked(nar));
}

async function addAll(store: LmdbFarmStore, except: ReadonlySet<string> = new Set()): Promise<void> {
  await addSources(store);
  for (const v of dependencyOrder().filter((d) => !except.has(d.name))) {
    assert.deepEqual(await store.addDerivation(v.drvPath, v.aterm), { added: true }, v.drvPath);
  }
}

function withEnv(drv: Derivation, key: string, value: string): Derivation {
  const env = new Map(drv.env);
  env.set(key, value);
  return { ...drv, env };
}

test('every vector derivation is accepted in dependency order and read back', async () => {
  assert.ok(vectors.length >= 19);
  await withStore(async (store) => {
    await addAll(store);
    for (const v of vectors) {
      assert.equal(Buffer.from((await store.getDerivationAterm(v.drvPath))!).toString(), v.aterm);
      const drv = await store.getDerivation(v.drvPath);
      assert.deepEqual(Object.fromEntries([...drv!.outputs].map(([o, out]) => [o, out.path])), v.outputs);
      const info = await store.getPathInfo(v.drvPath);
      assert.deepEqual(info?.references, [...v.drvReferences].sort());
      assert.equal(info?.ca, `text:${sha256(v.aterm).toPrefixed('nix32')}`);
      // The stored NAR is the single-file NAR of the ATerm.
      assert.deepEqual(await readAll(await store.narStream(v.drvPath)), await narOf(v.aterm));
    }
    const top = vectors.find((v) => v.name === 'diamond-top')!;
    const closure = await store.closure([top.drvPath]);
    assert.ok(closure.includes(byPath.get(top.drvReferences[0]!)!.drvPath));
    assert.ok(closure.length >= 6, `closure of ${top.drvPath}: ${closure.join(' ')}`);
    // Re-adding is a no-op.
    assert.deepEqual(await store.addDerivation(top.drvPath, top.aterm), { added: false });
  });
});

test('tampered derivations are refused with the mismatch named and the store unchanged', async () => {
  await withStore(async (store) => {
    await addAll(store, new Set(['chain-b', 'chain-c']));
    const before = await snapshot(store);
    const chainB = vectors.find((v) => v.name === 'chain-b')!;
    const fixed = vectors.find((v) => v.name === 'fixed-flat')!;
    const multi = vectors.find((v) => v.name === 'multi')!;
    const drvB = parseDerivation(chainB.aterm);

    // Changed env under the original drv path: the drv path and the output paths no longer fit.
    const changed = serialiseDerivation(withEnv(drvB, 'PATH', '/evil'));
    await assert.rejects(store.addDerivation(chainB.drvPath, changed), (e: Error) => {
      assert.match(e.message, /drvPath is '.*-chain-b\.drv' but should be '.*-chain-b\.drv'/);
      assert.match(e.message, /outputs\.out\.path is '.*' but should be/);
      return true;
    });

    // Changed env under the drv path of the changed text: only the outputs are wrong.
    const renamed = withEnv(drvB, 'PATH', '/evil');
    const renamedPath = derivationPath(renamed, 'chain-b');
    await assert.rejects(store.addDerivation(renamedPath, serialiseDerivation(renamed)), (e: Error) => {
      assert.match(e.message, /outputs\.out\.path is '\/nix\/store\/[a-z0-9]{32}-chain-b' but should be/);
      assert.match(e.message, /env\.out is/);
      return true;
    });
    // Wrong output path (in outputs and env alike) under the drv path of the tampered text.
    const fakeOut = '/nix/store/00000000000000000000000000000000-chain-b';
    const wrongOut: Derivation = { ...withEnv(drvB, 'out', fakeOut), outputs: new Map([['out', { path: fakeOut, hashAlgo: '', hash: '' }]]) };
    await assert.rejects(store.addDerivation(derivationPath(wrongOut, 'chain-b'), serialiseDerivation(wrongOut)), (e: Error) => {
      assert.match(e.message, new RegExp(`outputs\\.out\\.path is '${fakeOut}' but should be '${chainB.outputs['out']}'`));
      return true;
    });
    // A fixed-output derivation whose path does not fit its hash.
    const drvF = parseDerivation(fixed.aterm);
    const fOut = drvF.outputs.get('out')!;
    const badF: Derivation = { ...withEnv(drvF, 'out', fakeOut.replace('chain-b', 'fixed-flat')), outputs: new Map([['out', { ...fOut, path: fakeOut.replace('chain-b', 'fixed-flat') }]]) };
    await assert.rejects(store.addDerivation(derivationPath(badF, 'fixed-flat'), serialiseDerivation(badF)), /outputs\.out\.path .* but should be/);
    // Multi-output: tamper one output's env var only.
    const drvM = withEnv(parseDerivation(multi.aterm), 'dev', '/nix/store/00000000000000000000000000000000-multi-dev');
    await assert.rejects(store.addDerivation(derivationPath(drvM, 'multi'), serialiseDerivation(drvM)), /env\.dev is '\/nix\/store\/0{32}-multi-dev' but should be/);
    // Right text, wrong drv path.
    const otherPath = chainB.drvPath.replace(/\/[a-z0-9]{32}-/, '/11111111111111111111111111111111-');
    await assert.rejects(store.addDerivation(otherPath, chainB.aterm), /drvPath is '.*' but should be '\/nix\/store\/.*-chain-b\.drv'/);
    // Not a .drv path; malformed ATerm.
    await assert.rejects(store.addDerivation(chainB.outputs['out']!, chainB.aterm), /not a \.drv store path/);
    await assert.rejects(store.addDerivation(renamedPath, 'Derive([("out"'), /BAD_DERIVATION|unexpected|expected/i);
    assert.deepEqual(await snapshot(store), before);
    // The untampered one is still accepted; different bytes for a held drv path are refused.
    assert.deepEqual(await store.addDerivation(chainB.drvPath, chainB.aterm), { added: true });
    await assert.rejects(store.addDerivation(chainB.drvPath, changed), /already holds different contents/);
  });
});

test('a derivation whose inputs are not in the store yet is refused naming the input', async () => {
  await withStore(async (store) => {
    const chainC = vectors.find((v) => v.name === 'chain-c')!;
    const before = await snapshot(store);
    await assert.rejects(store.addDerivation(chainC.drvPath, chainC.aterm), new RegExp(`reference ${chainC.drvReferences[0]!.replace(/\./g, '\\.')} is not valid`));
    assert.deepEqual(await snapshot(store), before);
  });
});

test('addDerivations stores a whole closure in one call; a refusal keeps the ones before it and nothing after', async () => {
  await withStore(async (store) => {
    await addSources(store);
    const order = dependencyOrder();
    // One call: every derivation's inputs come earlier in the same batch.
    const results = await store.addDerivations(order.map((v) => ({ drvPath: v.drvPath, aterm: v.aterm })));
    assert.deepEqual(results, order.map(() => ({ added: true })));
    for (const v of order) assert.equal(Buffer.from((await store.getDerivationAterm(v.drvPath))!).toString(), v.aterm, v.drvPath);
    // Again, plus a duplicate inside the batch: nothing new.
    const again = await store.addDerivations([...order, order[0]!].map((v) => ({ drvPath: v.drvPath, aterm: v.aterm })));
    assert.ok(again.every((r) => !r.added));
  });
  await withStore(async (store) => {
    await addSources(store);
    const order = dependencyOrder();
    const chainB = order.findIndex((v) => v.name === 'chain-b');
    assert.ok(chainB > 0);
    const tampered = serialiseDerivation(withEnv(parseDerivation(order[chainB]!.aterm), 'PATH', '/evil'));
    const list = order.map((v, i) => ({ drvPath: v.drvPath, aterm: i === chainB ? tampered : v.aterm }));
    await assert.rejects(store.addDerivations(list), /-chain-b\.drv: derivation does not match its paths/);
    for (const [i, v] of order.entries()) assert.equal(await store.isValidPath(v.drvPath), i < chainB, `${v.name} (#${i}) stored: ${i < chainB}`);
    // Two different texts for one path inside a batch: the second is refused.
    const first = order[0]!;
    await assert.rejects(
      store.addDerivations([
        { drvPath: order[chainB]!.drvPath, aterm: order[chainB]!.aterm },
        { drvPath: order[chainB]!.drvPath, aterm: tampered },
      ]),
      /already holds different contents/,
    );
    assert.equal(await store.isValidPath(order[chainB]!.drvPath), true, 'the first of the two is stored');
    assert.deepEqual(await store.addDerivations([{ drvPath: first.drvPath, aterm: first.aterm }]), [{ added: false }]);
  });
});
