import { test } from 'node:test';
import assert from 'node:assert/strict';
import {
  assertPathInfoSigned,
  formatPublicKey,
  formatSecretKey,
  generateKeyPair,
  isNixFormatError,
  parseNarInfo,
  parsePublicKey,
  parseSecretKey,
  parseSignature,
  pathInfoFingerprint,
  publicKeyOf,
  publicKeySet,
  secretKeyFromSeed,
  signDetached,
  signPathInfo,
  validPathInfoSignatures,
  verifyDetached,
} from '../src/index.js';
import { readBinaryCacheVectors } from './binary-cache-vectors.js';

const vectors = readBinaryCacheVectors();
const entries = [...vectors.caches.none.narinfos, ...vectors.caches.xz.narinfos];
const secret = parseSecretKey(vectors.secretKeyFile);
const trusted = publicKeySet([vectors.publicKey]);

test('the vector secret key is RFC 8032 TEST 1 and its public half is the vector public key', () => {
  assert.equal(secret.name, 'farm-test-1');
  assert.equal(Buffer.from(secret.seed).toString('hex'), '9d61b19deffd5a60ba844af492ec2cc44449c5697b326919703bac031cae7f60');
  assert.ok(vectors.secretKeyNote.includes(Buffer.from(secret.seed).toString('hex')));
  assert.equal(Buffer.from(secret.publicKey).toString('hex'), 'd75a980182b10ab7d54bfed3c964073a0ee172f3daa62325af021a68f707511a');
  assert.equal(formatPublicKey(publicKeyOf(secret)), vectors.publicKey);
  assert.equal(formatSecretKey(secret), vectors.secretKeyFile);
  assert.equal(formatSecretKey(secretKeyFromSeed('farm-test-1', secret.seed)), vectors.secretKeyFile);
});

test('RFC 8032 §7.1 TEST 1: the empty message signs to the published signature', () => {
  const expected =
    'e5564300c360ac729086e2cc806e828a84877f1eb8e5d974d873e065224901555fb8821590a33bacc61e39701cf9b46bd25bf5f0595bbe24655141438e7a100b';
  const sig = parseSignature(signDetached(secret, new Uint8Array()));
  assert.equal(Buffer.from(sig.signature).toString('hex'), expected);
});

test('every signature in both caches reproduces byte for byte from secretKeyFile and verifies against publicKey', () => {
  assert.equal(entries.length, 14);
  for (const e of entries) {
    const info = parseNarInfo(e.narinfo);
    assert.equal(e.signatureVerified, true);
    assert.deepEqual([signPathInfo(info, secret)], info.sigs, e.file);
    assert.equal(signDetached(secret, e.fingerprint), info.sigs[0]);
    assert.equal(verifyDetached(e.fingerprint, info.sigs[0]!, trusted), true, e.file);
    assert.deepEqual(validPathInfoSignatures(info, trusted), info.sigs);
    assert.doesNotThrow(() => assertPathInfoSigned(info, trusted));
  }
});

test('tampered fingerprints, path infos and signatures do not verify', () => {
  for (const e of entries) {
    const info = parseNarInfo(e.narinfo);
    const sig = info.sigs[0]!;
    const tampered = [
      e.fingerprint.replace(/sha256:(.)/, (_m, c: string) => `sha256:${c === '0' ? '1' : '0'}`),
      e.fingerprint + ',/nix/store/h1xv0qjnm4j1557r15pwwn2dziz4iq40-a.txt',
      e.fingerprint.replace(/;(\d+);/, (_m, n: string) => `;${Number(n) + 1};`),
      e.fingerprint.slice(0, -1),
      '2' + e.fingerprint.slice(1),
    ];
    for (const fp of tampered) {
      assert.notEqual(fp, e.fingerprint);
      assert.equal(verifyDetached(fp, sig, trusted), false, fp);
    }
    assert.equal(validPathInfoSignatures({ ...info, narSize: info.narSize + 1n }, trusted).length, 0);
    assert.equal(validPathInfoSignatures({ ...info, path: info.path.replace(/.$/, 'x') }, trusted).length, 0);
    const bytes = parseSignature(sig).signature;
    bytes[10] = bytes[10]! ^ 1;
    const flipped = `farm-test-1:${Buffer.from(bytes).toString('base64')}`;
    assert.equal(verifyDetached(e.fingerprint, flipped, trusted), false);
    assert.throws(() => assertPathInfoSigned({ ...info, sigs: [flipped] }, trusted), (err) => isNixFormatError(err, 'BAD_SIGNATURE'));
  }
});

test('a signature by an untrusted key name, or checked against another key of the same name, is not valid', () => {
  const e = entries[0]!;
  const info = parseNarInfo(e.narinfo);
  const other = generateKeyPair('farm-test-1');
  assert.equal(verifyDetached(e.fingerprint, info.sigs[0]!, publicKeySet([other.publicKey])), false);
  const renamed = info.sigs[0]!.replace('farm-test-1:', 'someone-else:');
  assert.equal(verifyDetached(e.fingerprint, renamed, trusted), false);
  assert.equal(verifyDetached(e.fingerprint, info.sigs[0]!, publicKeySet([])), false);
  assert.throws(() => assertPathInfoSigned(info, publicKeySet([])), (err) => isNixFormatError(err, 'BAD_SIGNATURE') && /none trusted/.test(err.message));
});

test('generated key pairs round-trip through the Nix key format and sign verifiably', () => {
  const { secretKey, publicKey } = generateKeyPair('cache.farm.example-1');
  const secretText = formatSecretKey(secretKey);
  const publicText = formatPublicKey(publicKey);
  assert.match(secretText, /^cache\.farm\.example-1:[A-Za-z0-9+/]{86}==$/);
  assert.match(publicText, /^cache\.farm\.example-1:[A-Za-z0-9+/]{43}=$/);
  const reloaded = parseSecretKey(secretText + '\n');
  assert.deepEqual(parsePublicKey(publicText), publicKey);
  assert.deepEqual(publicKeyOf(reloaded), publicKey);
  const sig = signDetached(reloaded, 'hello');
  assert.equal(verifyDetached('hello', sig, publicKeySet([publicText])), true);
  assert.equal(verifyDetached('hellO', sig, publicKeySet([publicText])), false);
  assert.notEqual(formatSecretKey(generateKeyPair('x').secretKey), formatSecretKey(generateKeyPair('x').secretKey));
  const info = parseNarInfo(entries[0]!.narinfo);
  const signed = { ...info, sigs: [...info.sigs, signPathInfo(info, reloaded)] };
  assert.deepEqual(validPathInfoSignatures(signed, publicKeySet([publicKey, vectors.publicKey])).length, 2);
  assert.equal(pathInfoFingerprint(signed), entries[0]!.fingerprint);
});

test('malformed keys are BAD_KEY, malformed signatures BAD_SIGNATURE', () => {
  const pub = vectors.publicKey;
  const badKeys = [
    '',
    'no-colon',
    ':' + pub.split(':')[1],
    'name:',
    'name:!!!!',
    'name:' + Buffer.alloc(31).toString('base64'),
    'name:' + Buffer.alloc(33).toString('base64'),
    'name:' + pub.split(':')[1]!.replace('=', ''),
  ];
  for (const k of badKeys) assert.throws(() => parsePublicKey(k), (e) => isNixFormatError(e, 'BAD_KEY'), JSON.stringify(k));
  const secretB64 = vectors.secretKeyFile.split(':')[1]!;
  const wrongHalf = Buffer.from(secretB64, 'base64');
  wrongHalf[40] = wrongHalf[40]! ^ 1;
  const badSecrets = ['', 'x:' + Buffer.alloc(32).toString('base64'), pub, 'farm-test-1:' + wrongHalf.toString('base64')];
  for (const k of badSecrets) assert.throws(() => parseSecretKey(k), (e) => isNixFormatError(e, 'BAD_KEY'), JSON.stringify(k));
  assert.throws(() => parseSecretKey('farm-test-1:' + wrongHalf.toString('base64')), /does not belong to its seed/);
  for (const n of ['', 'a:b', 'a b']) assert.throws(() => generateKeyPair(n), (e) => isNixFormatError(e, 'BAD_KEY'));
  assert.throws(() => secretKeyFromSeed('x', new Uint8Array(31)), (e) => isNixFormatError(e, 'BAD_KEY'));
  for (const s of ['', 'name', 'name:', ':AAAA', 'name:' + Buffer.alloc(65).toString('base64'), 'name:%%%%']) {
    assert.throws(() => verifyDetached('x', s, trusted), (e) => isNixFormatError(e, 'BAD_SIGNATURE'), JSON.stringify(s));
  }
});

test('a trusted key that is not a curve point makes verification fail, not crash', () => {
  // 0x02 followed by zeros has no valid x coordinate on edwards25519 — decoding must fail gracefully.
  const notAPoint = Buffer.alloc(32);
  notAPoint[0] = 2;
  const keys = publicKeySet([`farm-test-1:${notAPoint.toString('base64')}`]);
  const e = entries[0]!;
  assert.equal(verifyDetached(e.fingerprint, parseNarInfo(e.narinfo).sigs[0]!, keys), false);
});
