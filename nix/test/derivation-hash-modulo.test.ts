/**
 * hashDerivationModulo on synthetic graphs: a 5000-deep chain (no stack growth, one resolve per
 * derivation thanks to the memo), a cycle from a hostile resolver (typed error, no deadlock),
 * a wanted output the input lacks, and merging of two inputs with the same hash key.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import {
  derivationModuloAterm,
  hashDerivationModulo,
  isNixFormatError,
  makeStorePath,
  sha256,
  type Derivation,
  type DrvHashMemo,
} from '../src/index.js';

function fakeDrvPath(i: number): string {
  return makeStorePath('text', sha256(`drv ${i}`), `d${i}.drv`);
}

function drv(i: number, inputs: [string, string[]][], outputs: string[] = ['out']): Derivation {
  return {
    outputs: new Map(outputs.map((o) => [o, { path: makeStorePath(`output:${o}`, sha256(`out ${i} ${o}`), `d${i}`), hashAlgo: '', hash: '' }])),
    inputDrvs: new Map(inputs),
    inputSrcs: [],
    system: 'x86_64-linux',
    builder: '/bin/sh',
    args: [String(i)],
    env: new Map([['out', 'x']]),
  };
}

test('a 5000-deep chain hashes without stack overflow and resolves each input once', async () => {
  const n = 5000;
  const graph = new Map<string, Derivation>();
  for (let i = 0; i < n; i++) graph.set(fakeDrvPath(i), drv(i, i === 0 ? [] : [[fakeDrvPath(i - 1), ['out']]]));
  let resolves = 0;
  const memo: DrvHashMemo = new Map();
  const top = drv(n, [[fakeDrvPath(n - 1), ['out']]]);
  const h = await hashDerivationModulo(top, true, (p) => {
    resolves++;
    return graph.get(p)!;
  }, { memo });
  assert.equal(resolves, n);
  assert.equal(memo.size, n);
  // Same answer through a fresh memo with an async resolver.
  const again = await hashDerivationModulo(top, true, async (p) => graph.get(p)!);
  assert.ok(again.hashes.get('out')!.equals(h.hashes.get('out')!));
});

test('a cycle produced by a hostile resolver is a typed error', async () => {
  const a = fakeDrvPath(1);
  const b = fakeDrvPath(2);
  const graph = new Map([
    [a, drv(1, [[b, ['out']]])],
    [b, drv(2, [[a, ['out']]])],
  ]);
  await assert.rejects(hashDerivationModulo(drv(3, [[a, ['out']]]), true, (p) => graph.get(p)!), (e) =>
    isNixFormatError(e, 'BAD_DERIVATION') && /cycle/.test(e.message),
  );
});

test('asking for an output the input does not have is a typed error', async () => {
  const a = fakeDrvPath(1);
  await assert.rejects(hashDerivationModulo(drv(2, [[a, ['dev']]]), true, () => drv(1, [])), (e) =>
    isNixFormatError(e, 'BAD_DERIVATION') && /no output 'dev'/.test(e.message),
  );
});

test('inputs with equal modulo hashes merge their output names under one key', async () => {
  // Two distinct drv paths resolving to the same derivation text share a hash key.
  const a = fakeDrvPath(1);
  const b = fakeDrvPath(2);
  const shared = drv(7, [], ['dev', 'out']);
  const text = await derivationModuloAterm(drv(3, [[a, ['out']], [b, ['dev']]]), true, () => shared);
  const key = (await hashDerivationModulo(shared, false, () => shared)).hashes.get('out')!.base16;
  assert.ok(text.includes(`[("${key}",["dev","out"])]`), text.slice(0, 200));
});
