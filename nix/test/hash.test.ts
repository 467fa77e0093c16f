import { test } from 'node:test';
import assert from 'node:assert/strict';
import { Hash, compressHash, decodeNix32, encodeNix32, isNixFormatError, type HashAlgo } from '../src/index.js';
import { readVectorJson } from './vectors.js';

interface Encoding {
  inputBase64: string;
  algo: HashAlgo;
  base16: string;
  nix32: string;
  base64: string;
  sri: string;
  prefixedNix32: string;
}
interface Step {
  fingerprint: string;
  sha256OfFingerprint: string;
  xorFoldedTo20Bytes: string;
  nix32: string;
  storePath: string;
}
const vectors = readVectorJson<{ alphabet: string; encodings: Encoding[]; storePathHashSteps: Step[] }>('hashes.json');

test('every hashes.json encoding matches Nix 2.8', () => {
  assert.ok(vectors.encodings.length > 0);
  for (const v of vectors.encodings) {
    const h = Hash.of(v.algo, Buffer.from(v.inputBase64, 'base64'));
    assert.equal(h.encode('base16'), v.base16);
    assert.equal(h.encode('nix32'), v.nix32);
    assert.equal(h.encode('base64'), v.base64);
    assert.equal(h.encode('sri'), v.sri);
    assert.equal(h.toPrefixed('nix32'), v.prefixedNix32);
    for (const form of [v.base16, v.nix32, v.base64]) assert.ok(Hash.parse(form, v.algo).equals(h), form);
    for (const form of [v.sri, v.prefixedNix32, `${v.algo}:${v.base16}`, `${v.algo}:${v.base64}`]) assert.ok(Hash.parse(form).equals(h), form);
    assert.ok(Hash.parse(v.base16.toUpperCase(), v.algo).equals(h));
  }
});

test('store path hash steps: sha256, XOR fold to 20 bytes, nix32', () => {
  assert.ok(vectors.storePathHashSteps.length > 0);
  for (const s of vectors.storePathHashSteps) {
    const h = Hash.of('sha256', s.fingerprint);
    assert.equal(h.base16, s.sha256OfFingerprint);
    const folded = compressHash(h.digest, 20);
    assert.equal(Buffer.from(folded).toString('hex'), s.xorFoldedTo20Bytes);
    assert.equal(encodeNix32(folded), s.nix32);
    assert.ok(s.storePath.includes(`/${s.nix32}-`));
  }
});

test('nix32 round-trips random digests and rejects overflow and bad characters', () => {
  for (let n = 1; n <= 64; n++) {
    const bytes = new Uint8Array(n).map(() => Math.floor(Math.random() * 256));
    assert.deepEqual(decodeNix32(encodeNix32(bytes), n), bytes);
  }
  assert.throws(() => decodeNix32('e'.repeat(32), 20), (e) => isNixFormatError(e, 'BAD_HASH'));
  // 52 chars for sha256 carries 260 bits: a leading 'z' sets bits beyond 256.
  assert.throws(() => decodeNix32('z' + '0'.repeat(51), 32), (e) => isNixFormatError(e, 'BAD_HASH'));
  assert.throws(() => Hash.parse('sha256:abc'), (e) => isNixFormatError(e, 'BAD_HASH'));
  assert.throws(() => Hash.parse('sha3:abc'), (e) => isNixFormatError(e, 'BAD_HASH'));
  assert.throws(() => Hash.parse('00'.repeat(32)), (e) => isNixFormatError(e, 'BAD_HASH'));
});
