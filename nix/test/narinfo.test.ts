import { test } from 'node:test';
import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import {
  Hash,
  formatNarInfo,
  formatNixCacheInfo,
  narInfoFileName,
  parseNarInfo,
  parseNixCacheInfo,
  pathInfoFingerprint,
  isNixFormatError,
} from '../src/index.js';
import { readBinaryCacheVectors } from './binary-cache-vectors.js';

const binaryCache = readBinaryCacheVectors();
const caches = Object.entries(binaryCache.caches);

test('binary-cache.json has both caches with narinfos', () => {
  assert.deepEqual(Object.keys(binaryCache.caches).sort(), ['none', 'xz']);
  for (const [, c] of caches) assert.equal(c.narinfos.length, 7);
});

test('every narinfo of both caches parses and formats back byte-exact', () => {
  for (const [name, c] of caches) {
    for (const e of c.narinfos) {
      const info = parseNarInfo(e.narinfo);
      assert.equal(formatNarInfo(info), e.narinfo, `${name}/${e.file}`);
      assert.equal(narInfoFileName(info.path), e.file);
      assert.equal(info.url, e.narFile);
      assert.equal(info.compression, name);
      assert.equal(info.narSize, BigInt(e.narSize));
      assert.equal(info.fileSize, BigInt(e.narFileSize));
      assert.equal(info.sigs.length, 1);
      assert.equal(info.registrationTime, 0n);
      assert.equal(info.ultimate, false);
    }
  }
});

test('every fingerprint matches the one recorded next to Nix-written narinfo', () => {
  for (const [, c] of caches) for (const e of c.narinfos) assert.equal(pathInfoFingerprint(parseNarInfo(e.narinfo)), e.fingerprint, e.file);
});

test('the parsed fields mean what Nix wrote: hashes, sizes, base-name references, deriver, CA', () => {
  const none = binaryCache.caches.none.narinfos;
  const c = parseNarInfo(none.find((e) => e.narinfo.includes('-c.txt\n'))!.narinfo);
  assert.deepEqual(c.references, [
    '/nix/store/h1xv0qjnm4j1557r15pwwn2dziz4iq40-a.txt',
    '/nix/store/i9pmrzmpshapij2kin22pff6fc2adavx-hello.txt',
    '/nix/store/x6l90zfs2q745qzr5iq4za62qjwh6gzb-b.txt',
  ]);
  assert.equal(c.ca, 'text:sha256:0c2l7i6b9kbwvhfg3c7qdhcnird94lprwn0mf7v08dcq03fzpyk8');
  assert.equal(c.deriver, undefined);
  const capB = parseNarInfo(none.find((e) => e.file.startsWith('2970'))!.narinfo);
  assert.equal(capB.deriver, '/nix/store/gvia8rsrv78shfdbp3xy7s7q1kv0xfv0-cap-b-s1795253759.drv');
  assert.equal(capB.ca, undefined);
  assert.deepEqual(capB.references, []);
  assert.ok(formatNarInfo(capB).includes('\nReferences: \n'), 'empty References keeps its trailing space');
});

test('NAR files hash to FileHash/NarHash (none: same file; xz: FileHash is of the compressed file)', () => {
  for (const [name, c] of caches) {
    for (const e of c.narinfos) {
      if (e.narFileBase64 === undefined) continue;
      const info = parseNarInfo(e.narinfo);
      const bytes = Buffer.from(e.narFileBase64, 'base64');
      assert.equal(bytes.length, e.narFileSize);
      const fileHash = Hash.fromDigest('sha256', createHash('sha256').update(bytes).digest());
      assert.ok(info.fileHash?.equals(fileHash), `${name}/${e.file} FileHash`);
      assert.equal(info.url, `nar/${fileHash.nix32}.nar${name === 'xz' ? '.xz' : ''}`);
      if (name === 'none') assert.ok(info.narHash.equals(fileHash), 'uncompressed: NarHash = FileHash');
    }
  }
});

test('the same path has the same NarHash, NarSize, references and signature in both caches', () => {
  for (const e of binaryCache.caches.none.narinfos) {
    const x = binaryCache.caches.xz.narinfos.find((f) => f.file === e.file);
    assert.ok(x, e.file);
    const a = parseNarInfo(e.narinfo);
    const b = parseNarInfo(x.narinfo);
    assert.ok(a.narHash.equals(b.narHash));
    assert.equal(a.narSize, b.narSize);
    assert.deepEqual(a.references, b.references);
    assert.deepEqual(a.sigs, b.sigs);
    assert.equal(e.fingerprint, x.fingerprint);
  }
});

test('nix-cache-info of both caches parses and formats back; optional keys round-trip', () => {
  for (const [, c] of caches) {
    const info = parseNixCacheInfo(c.nixCacheInfo);
    assert.deepEqual(info, { storeDir: '/nix/store' });
    assert.equal(formatNixCacheInfo(info), c.nixCacheInfo);
  }
  const full = 'StoreDir: /nix/store\nWantMassQuery: 1\nPriority: 40\n';
  assert.deepEqual(parseNixCacheInfo(full), { storeDir: '/nix/store', wantMassQuery: true, priority: 40 });
  assert.equal(formatNixCacheInfo(parseNixCacheInfo(full)), full);
  // As Nix: lines without ':' and unknown keys are ignored, values trimmed, WantMassQuery only "1" is true.
  assert.deepEqual(parseNixCacheInfo('junk\nStoreDir:   /nix/store  \nFoo: bar\nWantMassQuery: yes\n'), { storeDir: '/nix/store', wantMassQuery: false });
  assert.throws(() => parseNixCacheInfo('StoreDir: /nix/store\nPriority: high\n'), (e) => isNixFormatError(e, 'BAD_NARINFO') && e.field === 'Priority');
});

test('missing Compression means bzip2, unknown-deriver means none, unknown keys are ignored', () => {
  const base = binaryCache.caches.none.narinfos[0]!.narinfo;
  const noCompression = base.replace('Compression: none\n', '');
  assert.equal(parseNarInfo(noCompression).compression, 'bzip2');
  const unknownDeriver = base.replace(/Deriver: .*\n/, 'Deriver: unknown-deriver\n');
  assert.equal(parseNarInfo(unknownDeriver).deriver, undefined);
  const extra = base + 'Provenance: {"x":1}\nX-Farm-Note: hello: world\n';
  assert.equal(formatNarInfo(parseNarInfo(extra)), base);
  const withSystem = base.replace(/(Deriver: .*\n)/, '$1System: x86_64-linux\n');
  assert.equal(parseNarInfo(withSystem).system, 'x86_64-linux');
  assert.equal(formatNarInfo(parseNarInfo(withSystem)), withSystem);
});

test('formatting sorts references and signatures as Nix std::sets do, and deduplicates them', () => {
  const c = parseNarInfo(binaryCache.caches.none.narinfos.find((e) => e.narinfo.includes('-c.txt\n'))!.narinfo);
  const sig = c.sigs[0]!;
  const other = `aaa-key:${Buffer.alloc(64, 7).toString('base64')}`;
  const shuffled = { ...c, references: [...c.references].reverse().concat(c.references[0]!), sigs: [sig, other, sig] };
  const text = formatNarInfo(shuffled);
  assert.ok(text.includes(`Sig: ${other}\nSig: ${sig}\n`));
  assert.equal((text.match(/^Sig: /gm) ?? []).length, 2);
  assert.ok(text.includes('References: h1xv0qjnm4j1557r15pwwn2dziz4iq40-a.txt i9pmrzmpshapij2kin22pff6fc2adavx-hello.txt x6l90zfs2q745qzr5iq4za62qjwh6gzb-b.txt\n'));
  assert.equal(pathInfoFingerprint(shuffled), pathInfoFingerprint(c));
});

test('formatting refuses records Nix could not read back', () => {
  const info = parseNarInfo(binaryCache.caches.none.narinfos[0]!.narinfo);
  assert.throws(() => formatNarInfo({ ...info, url: 'nar/x.nar\nStorePath: /evil' }), (e) => isNixFormatError(e, 'BAD_NARINFO') && e.field === 'URL');
  assert.throws(() => formatNarInfo({ ...info, narSize: 0n }), (e) => isNixFormatError(e, 'BAD_NARINFO') && e.field === 'NarSize');
  assert.throws(() => formatNarInfo({ ...info, narHash: Hash.of('sha1', 'x') }), (e) => isNixFormatError(e, 'BAD_NARINFO') && e.field === 'NarHash');
  assert.throws(() => formatNarInfo({ ...info, references: ['/tmp/not-in-store'] }), (e) => isNixFormatError(e, 'BAD_NARINFO') && e.field === 'References');
  assert.throws(() => pathInfoFingerprint({ ...info, narSize: 0n }), (e) => isNixFormatError(e, 'BAD_NARINFO'));
});

test('a narinfo in another store dir round-trips with that store dir and is rejected with the default', () => {
  const base = binaryCache.caches.none.narinfos.find((e) => e.narinfo.includes('-c.txt\n'))!.narinfo;
  const moved = base.replace('StorePath: /nix/store/', 'StorePath: /farm/store/');
  const info = parseNarInfo(moved, { storeDir: '/farm/store' });
  assert.equal(info.references[0], '/farm/store/h1xv0qjnm4j1557r15pwwn2dziz4iq40-a.txt');
  assert.equal(formatNarInfo(info, { storeDir: '/farm/store' }), moved);
  assert.throws(() => parseNarInfo(moved), (e) => isNixFormatError(e, 'BAD_NARINFO') && e.field === 'StorePath');
});
