/**
 * BasicDerivation resolution against what Nix 2.8's build hook really sent (transcripts
 * serve-offload-1/2, worker-offload-1/2): inputDrvs dropped, inputSrcs replaced by the input
 * closure when there were inputDrvs, and the DrvOutput ids the real server computed from it.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import {
  closureOf,
  computeOutputPaths,
  derivationNameFromPath,
  drvOutputIds,
  isNixFormatError,
  parseDerivation,
  resolveBasicDerivation,
  toBasicDerivation,
  type BasicDerivation,
  type Derivation,
} from '../src/index.js';
import { resolverFromAterms } from './derivation-fixtures.js';
import { readVectorJson } from './vectors.js';

interface WireDerivation {
  outputs: Record<string, { path: string; hashAlgo: string; hash: string }>;
  inputSrcs: string[];
  platform: string;
  builder: string;
  args: string[];
  env: Record<string, string>;
}
interface Transcript {
  clientDrvFiles: Record<string, string>;
  exchanges: { request: { drvPath?: string; derivation?: WireDerivation }; response: { builtOutputs?: Record<string, unknown> } }[];
}

function asWire(b: BasicDerivation): WireDerivation {
  return {
    outputs: Object.fromEntries([...b.outputs].map(([n, o]) => [n, { path: o.path, hashAlgo: o.hashAlgo, hash: o.hash }])),
    inputSrcs: [...b.inputSrcs],
    platform: b.system,
    builder: b.builder,
    args: [...b.args],
    env: Object.fromEntries(b.env),
  };
}

for (const scenario of ['serve-offload-1', 'serve-offload-2', 'worker-offload-1', 'worker-offload-2']) {
  test(`${scenario}: our BasicDerivation equals the one Nix's build hook sent`, async () => {
    const t = readVectorJson<Transcript>(`transcripts/${scenario}.json`);
    const exchange = t.exchanges.find((e) => e.request.derivation !== undefined);
    assert.ok(exchange, 'transcript has a BuildDerivation');
    const drvPath = exchange.request.drvPath!;
    const aterms = new Map(Object.entries(t.clientDrvFiles));
    const resolve = resolverFromAterms(aterms);
    const drv = parseDerivation(aterms.get(drvPath)!);
    // Output paths of the inputs, recomputed from their own .drv files.
    const inputOutputPaths = new Map<string, Map<string, string>>();
    for (const input of drv.inputDrvs.keys()) {
      const paths = await computeOutputPaths(resolve(input) as Derivation, derivationNameFromPath(input), resolve);
      inputOutputPaths.set(input, new Map([...paths].map(([o, p]) => [o, p!])));
    }
    // None of these input outputs references another store path (cap-a copies the source's text).
    const basic = resolveBasicDerivation(drv, { inputOutputPaths });
    assert.deepEqual(asWire(basic), exchange.request.derivation);
    if (drv.inputDrvs.size > 0) assert.notDeepEqual(basic.inputSrcs, drv.inputSrcs);
    else assert.deepEqual(basic, toBasicDerivation(drv));

    // The server's DrvOutput ids are the modulo hash of the BasicDerivation seen as a derivation
    // without inputDrvs (spec §5.4), whether or not the client's own ids agree.
    const built = exchange.response.builtOutputs;
    if (built !== undefined) {
      const asDrv: Derivation = { ...basic, inputDrvs: new Map() };
      const ids = await drvOutputIds(asDrv, resolve);
      assert.deepEqual([...ids.values()].sort(), Object.keys(built).sort());
      const clientIds = await drvOutputIds(drv, resolve);
      assert.equal(drv.inputDrvs.size === 0, [...clientIds.values()].sort().join() === [...ids.values()].sort().join());
    }
  });
}

test('closureOf follows references iteratively, dedups and sorts bytewise', () => {
  const refs = new Map<string, string[]>([
    ['/nix/store/c', ['/nix/store/b', '/nix/store/a']],
    ['/nix/store/b', ['/nix/store/a', '/nix/store/b']],
  ]);
  assert.deepEqual(closureOf(['/nix/store/c'], refs), ['/nix/store/a', '/nix/store/b', '/nix/store/c']);
  // A long chain is walked without recursion.
  const chain = new Map<string, string[]>();
  for (let i = 0; i < 100_000; i++) chain.set(`p${i}`, [`p${i + 1}`]);
  assert.equal(closureOf(['p0'], chain).length, 100_001);
});

test('resolveBasicDerivation adds input closures and refuses a missing input output path', () => {
  const drv: Derivation = {
    outputs: new Map([['out', { path: '/nix/store/00000000000000000000000000000000-x', hashAlgo: '', hash: '' }]]),
    inputDrvs: new Map([['/nix/store/11111111111111111111111111111111-dep.drv', ['dev', 'out']]]),
    inputSrcs: ['/nix/store/22222222222222222222222222222222-src'],
    system: 'x86_64-linux',
    builder: '/bin/sh',
    args: [],
    env: new Map(),
  };
  const depOut = '/nix/store/33333333333333333333333333333333-dep';
  const depDev = '/nix/store/44444444444444444444444444444444-dep-dev';
  const lib = '/nix/store/55555555555555555555555555555555-lib';
  const basic = resolveBasicDerivation(drv, {
    inputOutputPaths: new Map([['/nix/store/11111111111111111111111111111111-dep.drv', new Map([['out', depOut], ['dev', depDev]])]]),
    references: new Map([[depDev, [depOut, lib]]]),
  });
  assert.deepEqual(basic.inputSrcs, ['/nix/store/22222222222222222222222222222222-src', depOut, depDev, lib]);
  assert.equal('inputDrvs' in basic, false);
  assert.throws(
    () => resolveBasicDerivation(drv, { inputOutputPaths: new Map([['/nix/store/11111111111111111111111111111111-dep.drv', new Map([['out', depOut]])]]) }),
    (e) => isNixFormatError(e, 'BAD_DERIVATION') && /'dev'/.test(e.message),
  );
});
