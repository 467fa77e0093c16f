/**
 * Every derivation of shared/vectors/derivations.json (produced by Nix 2.8): parse, byte-exact
 * round trip, drv path and its fingerprint, output paths and their fingerprints, the masked
 * modulo ATerm and hashes, DrvOutput ids, show-derivation JSON, features, kind, verification.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import {
  Hash,
  computeOutputPaths,
  derivationModuloAterm,
  derivationNameFromPath,
  derivationPath,
  derivationPathFingerprint,
  derivationReferences,
  derivationType,
  drvOutputIds,
  fixedOutputInnerString,
  fixedOutputModuloPreimage,
  hashDerivationModulo,
  isFixedOutput,
  parseDerivation,
  preferLocalBuild,
  allowSubstitutes,
  requiredSystemFeatures,
  serialiseDerivation,
  serialiseDerivationBytes,
  showDerivationEntry,
  sortedBytewise,
  storePathFingerprint,
  classifyOutput,
  verifyDerivation,
  sha256,
  type DrvHashMemo,
} from '../src/index.js';
import { loadDerivationVectors, resolverFromAterms } from './derivation-fixtures.js';

const vectors = loadDerivationVectors();
const all = Object.values(vectors.derivations);
const resolve = resolverFromAterms(new Map(all.map((v) => [v.drvPath, v.aterm])));

test('the vector file has the 19 derivations of nix/default.nix, from Nix 2.8', () => {
  assert.equal(all.length, 19);
  assert.match(vectors.nixVersion, /2\.8\./);
  assert.equal(vectors.storeDir, '/nix/store');
});

test('parse → serialise is byte-exact for every vector, as text and as bytes', () => {
  for (const v of all) {
    const drv = parseDerivation(v.aterm);
    assert.equal(serialiseDerivation(drv), v.aterm, v.attr);
    const fromBytes = parseDerivation(Buffer.from(v.aterm, 'utf8'));
    assert.deepEqual(Buffer.from(serialiseDerivationBytes(fromBytes)), Buffer.from(v.aterm, 'utf8'), v.attr);
    assert.equal(sha256(v.aterm).base16, v.atermSha256, v.attr);
    assert.equal(drv.system, v.system, v.attr);
  }
});

test('parsed fields match the show-derivation JSON Nix printed, and our JSON equals it', () => {
  for (const v of all) {
    const drv = parseDerivation(v.aterm);
    assert.deepEqual(showDerivationEntry(v.drvPath, drv), v.showDerivation, v.attr);
  }
});

test('the escapes vector keeps quotes, backslashes, newline, tab, CR, $ and é exactly', () => {
  const v = vectors.derivations['escapes']!;
  const drv = parseDerivation(v.aterm);
  assert.equal(drv.env.get('weird'), 'quote" backslash\\ newline\n tab\t cr\r dollar$ unicode-é');
  assert.equal(drv.env.get('aList'), 'one two 3 1');
  assert.equal(drv.env.get('aNull'), '');
  assert.ok(v.aterm.includes('("weird","quote\\" backslash\\\\ newline\\n tab\\t cr\\r dollar$ unicode-é")'));
});

test('drv path, its fingerprint and references are recomputed exactly', () => {
  for (const v of all) {
    const drv = parseDerivation(v.aterm);
    assert.equal(derivationNameFromPath(v.drvPath), v.name, v.attr);
    assert.deepEqual(sortedBytewise(derivationReferences(drv)), v.drvReferences, v.attr);
    assert.equal(derivationPathFingerprint(drv, v.name), v.drvPathFingerprint, v.attr);
    assert.equal(derivationPath(drv, v.name), v.drvPath, v.attr);
  }
});

test('output paths and their fingerprints are recomputed exactly (input-addressed and fixed)', async () => {
  const memo: DrvHashMemo = new Map();
  for (const v of all) {
    const drv = parseDerivation(v.aterm);
    const paths = await computeOutputPaths(drv, v.name, resolve, { memo });
    assert.deepEqual(Object.fromEntries(paths), v.outputs, v.attr);
    for (const [o, fp] of Object.entries(v.outputPathFingerprints)) {
      const k = classifyOutput(o, drv.outputs.get(o)!);
      let ours: string;
      if (k.kind === 'fixed') {
        ours =
          k.method === 'recursive' && k.hash.algo === 'sha256'
            ? storePathFingerprint('source', k.hash, v.name)
            : storePathFingerprint('output:out', sha256(fixedOutputInnerString(k.method, k.hash)), v.name);
      } else {
        const { hashes } = await hashDerivationModulo(drv, true, resolve, { memo });
        ours = storePathFingerprint(`output:${o}`, hashes.get(o)!, o === 'out' ? v.name : `${v.name}-${o}`);
      }
      assert.equal(ours, fp, `${v.attr}.${o}`);
    }
  }
});

test('masked modulo ATerm, its hash, the as-input hashes and DrvOutput ids match Nix', async () => {
  const memo: DrvHashMemo = new Map();
  let inputAddressed = 0;
  for (const v of all) {
    const drv = parseDerivation(v.aterm);
    const asInput = await hashDerivationModulo(drv, false, resolve, { memo });
    assert.equal(asInput.kind, 'regular');
    assert.deepEqual(Object.fromEntries([...asInput.hashes].map(([o, h]) => [o, h.base16])), v.hashDerivationModuloAsInput, v.attr);
    if (v.kind === 'fixed-output') {
      assert.equal(fixedOutputModuloPreimage(drv), v.fixedModuloPreimage, v.attr);
      continue;
    }
    inputAddressed++;
    assert.equal(await derivationModuloAterm(drv, true, resolve, { memo }), v.maskedModuloAterm, v.attr);
    const masked = await hashDerivationModulo(drv, true, resolve, { memo });
    for (const h of masked.hashes.values()) assert.equal(h.base16, v.hashDerivationModuloMasked, v.attr);
    assert.deepEqual(Object.fromEntries(await drvOutputIds(drv, resolve, { memo })), v.drvOutputIds, v.attr);
  }
  assert.equal(inputAddressed, 17);
});

test('diamond-top masks itself, keeps inputs unmasked and merges by hex key (spec §5.3 example)', async () => {
  const v = vectors.derivations['top']!;
  const text = await derivationModuloAterm(parseDerivation(v.aterm), true, resolve);
  assert.ok(text.startsWith('Derive([("out","","","")],[("156900aa'), text.slice(0, 80));
  assert.ok(text.includes('["dev"]'));
  // Unmasked, the own output path stays in.
  const unmasked = await derivationModuloAterm(parseDerivation(v.aterm), false, resolve);
  assert.ok(unmasked.includes(v.outputs['out']!));
  assert.equal(sha256(unmasked).base16, v.hashDerivationModuloAsInput['out']);
});

test('kind, fixed-output flag, required features, preferLocalBuild and allowSubstitutes', () => {
  for (const v of all) {
    const drv = parseDerivation(v.aterm);
    assert.equal(derivationType(drv), v.kind, v.attr);
    assert.equal(isFixedOutput(drv), v.kind === 'fixed-output', v.attr);
    assert.deepEqual(requiredSystemFeatures(drv), v.requiredSystemFeatures, v.attr);
    assert.equal(preferLocalBuild(drv), v.attr === 'preferLocal', v.attr);
    assert.equal(allowSubstitutes(drv), v.attr !== 'preferLocal', v.attr);
  }
});

test('verifyDerivation accepts every vector and names each tampered field', async () => {
  for (const v of all) assert.deepEqual(await verifyDerivation(v.drvPath, parseDerivation(v.aterm), resolve), [], v.attr);
  const chainB = vectors.derivations['chainB']!;
  // Same derivation text under another name: drv path and both output-dependent fields move.
  const drv = parseDerivation(chainB.aterm);
  const env = new Map(drv.env);
  env.set('out', '/nix/store/00000000000000000000000000000000-chain-b');
  const tampered = { ...drv, env };
  const mismatches = await verifyDerivation(chainB.drvPath, tampered, resolve);
  assert.deepEqual(mismatches.map((m) => m.field), ['drvPath', 'env.out']);
  const fixed = vectors.derivations['fixedFlat']!;
  const fdrv = parseDerivation(fixed.aterm);
  const badHash = Hash.of('sha256', 'not hello').base16;
  const outputs = new Map([['out', { ...fdrv.outputs.get('out')!, hash: badHash }]]);
  const fm = await verifyDerivation(fixed.drvPath, { ...fdrv, outputs }, resolve);
  assert.deepEqual(fm.map((m) => m.field), ['drvPath', 'outputs.out.path', 'env.out']);
});
