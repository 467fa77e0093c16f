/**
 * The farm's HTTP binary cache against the real Nix 2.8: paths built by `nix-store --realise`
 * are uploaded into a real LMDB farm store, and `nix copy --from http://…` — signature checking
 * on — copies them into a fresh chroot store with the same NAR hashes, for every compression the
 * cache offers; with the wrong key in trusted-public-keys it refuses. The narinfo, the NAR and
 * the `.ls` listing are byte-identical to what Nix itself writes into a file:// cache with the
 * same key, and to the vectors (RFC 8032 test key). Also: HEAD answers like GET, 404s and
 * malformed requests, build logs (last attempt only) from an in-memory LogSource, concurrent
 * first requests sharing one compressed file that a restarted cache reuses, and the key file
 * created once and reused.
 */
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { chmod, mkdir, readFile, readdir, stat, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { request } from 'node:http';
import { brotliDecompressSync } from 'node:zlib';
import { FarmError, silentLogger } from '@farm/common';
import { generateKeyPair, formatPublicKey, parseNarInfo, pathInfoFingerprint, signDetached, type PathInfo } from '@farm/nix';
import type { LogChunk__Output } from '@farm/proto';
import { makeTempDir, readVectorJson, type TempDir } from '@farm/testkit';
import {
  cacheKeyOf,
  loadOrCreateCacheKey,
  narInfoText,
  openFarmStore,
  startHttpCache,
  type CacheCompression,
  type CacheKey,
  type LmdbFarmStore,
  type LogReadOptions,
  type LogSource,
  type RunningHttpCache,
} from '../src/index.js';
import { dumpStream, http, lines, nix, nixOk, nixPathInfo } from './http-cache-fixtures.js';

const NIX_OPTS = ['--option', 'substituters', ''];
const NIX_CMD = ['--extra-experimental-features', 'nix-command'];
const hashPartOf = (p: string) => p.slice('/nix/store/'.length, '/nix/store/'.length + 32);

const EXPRESSION = `
let
  mk = name: script: derivation { inherit name; system = builtins.currentSystem; builder = "/bin/sh"; args = [ "-c" script ]; PATH = "/usr/bin:/bin"; };
  leaf = mk "farm-cache-leaf" "echo leaf > $out";
  tree = mk "farm-cache-tree" ''
    mkdir -p $out/bin $out/share/empty-dir
    printf '#!/bin/sh\\necho run\\n' > $out/bin/run; chmod +x $out/bin/run
    ln -s ../share/data $out/bin/data
    seq 1 60000 > $out/share/data
    printf 'tab\\there\\n' > "$out/share/we\\"ird name"
    echo \${leaf} > $out/share/leaf-path
    echo $out > $out/self
  '';
in { inherit leaf tree; }
`;

/** An in-memory LogSource (the port), chunks per job id. */
class MemoryLogs implements LogSource {
  readonly chunks = new Map<string, LogChunk__Output[]>();
  async *read(jobId: string, _options: LogReadOptions): AsyncIterable<LogChunk__Output> {
    for (const c of this.chunks.get(jobId) ?? []) yield c;
  }
}
const chunk = (jobId: string, epoch: number, seq: number, data: string, eof = false): LogChunk__Output => ({
  jobId,
  epoch: String(epoch),
  seq: String(seq),
  data: Buffer.from(data),
  truncated: false,
  eof,
});

let dir: TempDir;
let store: LmdbFarmStore;
let key: CacheKey;
let keyFile: string;
const logs = new MemoryLogs();
let cache: RunningHttpCache;
const started: RunningHttpCache[] = [];
let leaf = '';
let tree = '';
let leafDrv = '';
let treeDrv = '';
/** A second key: its signature is one of leaf's own stored sigs. */
const other = generateKeyPair('farm-test-other-1');

async function startCache(compression: CacheCompression, workDir: string, s: LmdbFarmStore = store, k: CacheKey = key): Promise<RunningHttpCache> {
  const c = await startHttpCache({ store: s, logs, logger: silentLogger() }, { listen: '127.0.0.1:0', key: k, compression, priority: 40, workDir });
  started.push(c);
  return c;
}

/** `nix copy --from <cache>` of `paths` into a fresh chroot store; returns the run and the store. */
async function copyFrom(url: string, trusted: string, paths: string[]): Promise<{ code: number | null; stderr: string; to: string }> {
  const to = join(dir.path, `dst-${Math.random().toString(36).slice(2)}`);
  const r = await nix('nix', ['copy', ...NIX_CMD, ...NIX_OPTS, '--option', 'trusted-public-keys', trusted, '--from', url, '--to', to, ...paths]);
  return { code: r.code, stderr: r.stderr, to };
}

async function dumped(path: string): Promise<Buffer> {
  const parts: Uint8Array[] = [];
  for await (const c of dumpStream(path)) parts.push(c);
  return Buffer.concat(parts);
}

async function assertCopied(to: string, paths: string[]): Promise<void> {
  for (const p of paths) {
    assert.equal((await nixOk('nix-store', ['--store', to, '-q', '--hash', p])).trim(), (await store.getPathInfo(p))!.narHash.toPrefixed('nix32'), p);
  }
  // Contents re-hashed by Nix against the registered hashes.
  await nixOk('nix-store', ['--store', to, '--verify-path', ...paths]);
}

before(async () => {
  dir = await makeTempDir('farm-http-cache-');
  const file = join(dir.path, 'paths.nix');
  await writeFile(file, EXPRESSION);
  [leafDrv, treeDrv] = [await nixOk('nix-instantiate', [file, '-A', 'leaf']), await nixOk('nix-instantiate', [file, '-A', 'tree'])].map((s) => s.trim()) as [string, string];
  [leaf, tree] = lines(await nixOk('nix-store', ['--realise', ...NIX_OPTS, leafDrv, treeDrv])) as [string, string];
  store = await openFarmStore({ dir: join(dir.path, 'store') });
  const leafInfo = await nixPathInfo(leaf);
  const withSig: PathInfo = { ...leafInfo, sigs: [signDetached(other.secretKey, pathInfoFingerprint(leafInfo))] };
  assert.deepEqual(await store.addPath(withSig, dumpStream(leaf)), { added: true });
  assert.deepEqual(await store.addPath(await nixPathInfo(tree), dumpStream(tree)), { added: true });
  for (const d of [leafDrv, treeDrv]) assert.deepEqual(await store.addDerivation(d, await readFile(d)), { added: true });
  keyFile = join(dir.path, 'keys', 'cache.sec');
  key = await loadOrCreateCacheKey(keyFile, 'farm-test-cache-1');
  cache = await startCache('br', join(dir.path, 'work-br'));
});

after(async () => {
  for (const c of started) await c.close();
  await store?.close();
  await dir?.remove();
});

test('the real nix copy fetches from the cache (brotli, signatures checked) and gets the same NARs', { timeout: 30_000 }, async () => {
  const info = await http(cache.url, '/nix-cache-info');
  assert.equal(info.status, 200);
  assert.equal(info.headers['content-type'], 'text/x-nix-cache-info');
  assert.equal(info.body.toString(), 'StoreDir: /nix/store\nWantMassQuery: 1\nPriority: 40\n');

  const r = await copyFrom(cache.url, key.publicKey, [tree]);
  assert.equal(r.code, 0, r.stderr);
  await assertCopied(r.to, [leaf, tree]);

  const narinfo = await http(cache.url, `/${hashPartOf(tree)}.narinfo`);
  assert.equal(narinfo.headers['content-type'], 'text/x-nix-narinfo');
  const parsed = parseNarInfo(narinfo.body.toString());
  assert.equal(parsed.compression, 'br');
  assert.match(parsed.url, /^nar\/[0-9a-df-np-sv-z]{52}\.nar\.br$/);
  assert.ok(parsed.fileSize! < parsed.narSize, 'the NAR is compressed');
  const nar = await http(cache.url, `/${parsed.url}`);
  assert.equal(nar.headers['content-type'], 'application/x-nix-nar');
  assert.equal(BigInt(nar.body.length), parsed.fileSize);
  assert.ok(brotliDecompressSync(nar.body).equals(await dumped(tree)), 'the file is the NAR, brotli-compressed');
});

test('with a wrong key in trusted-public-keys nix copy refuses the paths', { timeout: 30_000 }, async () => {
  const stranger = formatPublicKey(generateKeyPair('farm-test-cache-1').publicKey); // same name, other key
  const r = await copyFrom(cache.url, stranger, [leaf]);
  assert.notEqual(r.code, 0);
  assert.match(r.stderr, /lacks a valid signature/);
  const r2 = await copyFrom(cache.url, formatPublicKey(generateKeyPair('someone-else').publicKey), [tree]);
  assert.notEqual(r2.code, 0);
  assert.match(r2.stderr, /signature/);
});

test("a path's own signatures are served too: a client trusting only that key accepts it", { timeout: 30_000 }, async () => {
  const narinfo = parseNarInfo((await http(cache.url, `/${hashPartOf(leaf)}.narinfo`)).body.toString());
  assert.equal(narinfo.sigs.length, 2);
  assert.ok(narinfo.sigs.some((s) => s.startsWith('farm-test-cache-1:')) && narinfo.sigs.some((s) => s.startsWith('farm-test-other-1:')));
  const r = await copyFrom(cache.url, formatPublicKey(other.publicKey), [leaf]);
  assert.equal(r.code, 0, r.stderr);
  await assertCopied(r.to, [leaf]);
});

test('compression zstd and none work with the real nix copy too', { timeout: 30_000 }, async () => {
  for (const compression of ['zstd', 'none'] as const) {
    const c = await startCache(compression, join(dir.path, `work-${compression}`));
    const r = await copyFrom(c.url, key.publicKey, [tree]);
    assert.equal(r.code, 0, `${compression}: ${r.stderr}`);
    await assertCopied(r.to, [leaf, tree]);
    const narinfo = parseNarInfo((await http(c.url, `/${hashPartOf(tree)}.narinfo`)).body.toString());
    assert.equal(narinfo.compression, compression);
    assert.ok(narinfo.url.endsWith(compression === 'zstd' ? '.nar.zst' : '.nar'), narinfo.url);
    await c.close();
  }
});

test("narinfo, NAR and .ls are byte-identical to Nix's own file:// cache signed with the same key", { timeout: 30_000 }, async () => {
  const nixCache = join(dir.path, 'nix-file-cache');
  await nixOk('nix', ['copy', ...NIX_CMD, ...NIX_OPTS, '--to', `file://${nixCache}?compression=none&write-nar-listing=true&secret-key=${keyFile}`, tree]);
  const c = await startCache('none', join(dir.path, 'work-none-exact'));
  const h = hashPartOf(tree);
  const ours = await http(c.url, `/${h}.narinfo`);
  const theirs = await readFile(join(nixCache, `${h}.narinfo`));
  assert.equal(ours.body.toString(), theirs.toString());
  const url = parseNarInfo(theirs.toString()).url;
  assert.ok((await http(c.url, `/${url}`)).body.equals(await readFile(join(nixCache, url))), url);
  for (const p of [leaf, tree]) {
    const ls = await http(c.url, `/${hashPartOf(p)}.ls`);
    assert.equal(ls.status, 200);
    assert.equal(ls.headers['content-type'], 'application/json');
    assert.equal(ls.body.toString('latin1'), (await readFile(join(nixCache, `${hashPartOf(p)}.ls`))).toString('latin1'), `${p}.ls`);
  }
  // The listing has every kind of node (and an escaped name).
  const listing = JSON.parse((await http(c.url, `/${h}.ls`)).body.toString()) as { root: { entries: Record<string, { entries: Record<string, unknown> }> } };
  assert.deepEqual(Object.keys(listing.root.entries).sort(), ['bin', 'self', 'share']);
  assert.ok('we"ird name' in listing.root.entries['share']!.entries);
  assert.deepEqual(listing.root.entries['bin']!.entries['data'], { type: 'symlink', target: '../share/data' });
});

test('the narinfos of the vectors are served byte for byte (RFC 8032 test key)', { timeout: 30_000 }, async () => {
  interface Vectors {
    secretKeyFile: string;
    publicKey: string;
    caches: { none: { narinfos: { file: string; narinfo: string; narFile: string; narFileBase64: string }[] } };
  }
  const v = readVectorJson<Vectors>('binary-cache.json');
  const vecKeyFile = join(dir.path, 'vector-key', 'rfc8032.sec');
  await mkdir(join(dir.path, 'vector-key'));
  await writeFile(vecKeyFile, `${v.secretKeyFile}\n`, { mode: 0o600 });
  const vecKey = await loadOrCreateCacheKey(vecKeyFile, 'name-unused-for-an-existing-file');
  assert.equal(vecKey.publicKey, v.publicKey);
  assert.equal(vecKey.keyName, 'farm-test-1');

  const vecStore = await openFarmStore({ dir: join(dir.path, 'vector-store') });
  try {
    // References first.
    const pending = v.caches.none.narinfos.map((n) => ({ n, info: parseNarInfo(n.narinfo) }));
    while (pending.length > 0) {
      const i = pending.findIndex(({ info }) => info.references.every((r) => r === info.path || !pending.some((o) => o.info.path === r)));
      assert.ok(i >= 0, 'the vectors have no reference cycle');
      const [{ n, info }] = pending.splice(i, 1) as [(typeof pending)[number]];
      assert.deepEqual(await vecStore.addPath({ ...info, sigs: [] }, (async function* () { yield Buffer.from(n.narFileBase64, 'base64'); })()), { added: true }, n.file);
    }
    const c = await startCache('none', join(dir.path, 'work-vectors'), vecStore, vecKey);
    for (const n of v.caches.none.narinfos) {
      const got = await http(c.url, `/${n.file}`);
      assert.equal(got.status, 200, n.file);
      assert.equal(got.body.toString(), n.narinfo, n.file);
      const nar = await http(c.url, `/${n.narFile}`);
      assert.ok(nar.body.equals(Buffer.from(n.narFileBase64, 'base64')), n.narFile);
    }
    await c.close();
  } finally {
    await vecStore.close();
  }
});

test('HEAD answers with the status and headers of GET and no body', { timeout: 30_000 }, async () => {
  logs.chunks.set(hashPartOf(leafDrv), [chunk(hashPartOf(leafDrv), 1, 0, 'a log\n', true)]);
  const narinfo = parseNarInfo((await http(cache.url, `/${hashPartOf(tree)}.narinfo`)).body.toString());
  const paths = [
    '/nix-cache-info',
    `/${hashPartOf(tree)}.narinfo`,
    `/${narinfo.url}`,
    `/${hashPartOf(tree)}.ls`,
    `/log/${leafDrv.slice('/nix/store/'.length)}`,
    `/${'0'.repeat(32)}.narinfo`,
    '/nothing-here',
  ];
  for (const p of paths) {
    const get = await http(cache.url, p, 'GET');
    const head = await http(cache.url, p, 'HEAD');
    assert.equal(head.status, get.status, p);
    assert.equal(head.headers['content-type'], get.headers['content-type'], p);
    assert.equal(head.headers['content-length'], String(get.body.length), p);
    assert.equal(head.body.length, 0, p);
  }
});

test('unknown paths and malformed requests are 404 (or 400/405), and the cache keeps serving', { timeout: 30_000 }, async () => {
  const missing = [
    `/${'0'.repeat(32)}.narinfo`, // well-formed, not in the store
    `/${hashPartOf(tree).toUpperCase()}.narinfo`,
    `/${hashPartOf(tree)}e.narinfo`,
    `/${hashPartOf(tree)}-farm-cache-tree.narinfo`,
    `/${hashPartOf(tree)}.narinfo/`,
    `/${'0'.repeat(32)}.ls`,
    `/nar/${'0'.repeat(52)}.nar.br`,
    `/nar/${'0'.repeat(52)}.nar`,
    '/nar/../nix-cache-info',
    '/nar/x.nar.br',
    '/nar/',
    '/log/',
    '/log/garbage',
    `/log/${hashPartOf(leafDrv)}-wrong-name.drv`,
    `/log/${treeDrv.slice('/nix/store/'.length)}`, // a known derivation without any log
    `/log/${tree.slice('/nix/store/'.length)}`, // not a .drv
    '/%E0%A4%A',
    '/%00.narinfo',
    '/',
    '',
  ];
  for (const p of missing) {
    const r = await http(cache.url, p === '' ? '/' : p);
    assert.ok(r.status === 404 || r.status === 400, `${p}: ${r.status}`);
  }
  assert.equal((await http(cache.url, '/nix-cache-info', 'POST')).status, 405);
  assert.equal((await http(cache.url, `/${hashPartOf(tree)}.narinfo`, 'DELETE')).status, 405);
  assert.equal((await http(cache.url, '/nix-cache-info')).status, 200);
});

test('log/<drv> serves the last attempt of the build log; the real nix log reads it', { timeout: 30_000 }, async () => {
  const job = hashPartOf(leafDrv);
  logs.chunks.set(job, [
    chunk(job, 1, 0, 'first attempt\n'),
    chunk(job, 1, 1, '', true),
    chunk(job, 3, 0, 'second '),
    chunk(job, 3, 1, 'attempt\n'),
    chunk(job, 3, 2, '', true),
  ]);
  const r = await http(cache.url, `/log/${leafDrv.slice('/nix/store/'.length)}`);
  assert.equal(r.status, 200);
  assert.equal(r.headers['content-type'], 'text/plain; charset=utf-8');
  assert.equal(r.body.toString(), 'second attempt\n');
  const viaNix = await nixOk('nix', ['log', ...NIX_CMD, ...NIX_OPTS, '--store', cache.url, leafDrv]);
  assert.equal(viaNix, 'second attempt\n');
});

test('concurrent first requests share one compressed file; a restarted cache reuses it', { timeout: 30_000 }, async () => {
  const workDir = join(dir.path, 'work-concurrent');
  const c = await startCache('br', workDir);
  const h = hashPartOf(tree);
  const replies = await Promise.all(Array.from({ length: 8 }, (_, i) => http(c.url, `/${h}.narinfo`, i % 2 === 0 ? 'GET' : 'HEAD')));
  const bodies = new Set(replies.filter((_, i) => i % 2 === 0).map((r) => r.body.toString()));
  assert.equal(bodies.size, 1);
  assert.ok(replies.every((r) => r.status === 200));
  const files = await readdir(join(workDir, 'nar'));
  assert.equal(files.length, 1);
  assert.deepEqual(await readdir(join(workDir, 'tmp')), []);
  const before = await stat(join(workDir, 'nar', files[0]!));
  await c.close();

  const again = await startCache('br', workDir);
  assert.equal((await http(again.url, `/${h}.narinfo`)).body.toString(), [...bodies][0]);
  assert.deepEqual(await readdir(join(workDir, 'nar')), files);
  assert.equal((await stat(join(workDir, 'nar', files[0]!))).mtimeMs, before.mtimeMs, 'not compressed again');
  const narinfo = parseNarInfo([...bodies][0]!);
  const nar = await http(again.url, `/${narinfo.url}`);
  assert.equal(nar.status, 200);
  assert.ok(brotliDecompressSync(nar.body).equals(await dumped(tree)));
  await again.close();
});

test('the key file is created once (0600, parent dirs) and reused; a broken one is a config error', async () => {
  const st = await stat(keyFile);
  assert.equal(st.mode & 0o777, 0o600);
  const text = await readFile(keyFile, 'utf8');
  assert.match(text, /^farm-test-cache-1:[A-Za-z0-9+/]{86}==\n$/);
  const again = await loadOrCreateCacheKey(keyFile, 'farm-test-cache-1');
  assert.equal(again.publicKey, key.publicKey);
  assert.equal(await readFile(keyFile, 'utf8'), text);

  // Concurrent first starts agree on one key.
  const fresh = join(dir.path, 'keys2', 'deeper', 'cache.sec');
  const keys = await Promise.all(Array.from({ length: 6 }, () => loadOrCreateCacheKey(fresh, 'farm-race-1')));
  assert.equal(new Set(keys.map((k) => k.publicKey)).size, 1);
  assert.deepEqual(await readdir(join(dir.path, 'keys2', 'deeper')), ['cache.sec']);
  // The signature verifies with Nix's own tool semantics: the key signs fingerprints.
  assert.match(keys[0]!.sign('1;/nix/store/x;sha256:0;1;'), /^farm-race-1:[A-Za-z0-9+/]{86}==$/);

  const broken = join(dir.path, 'keys3.sec');
  await writeFile(broken, 'not a key\n');
  await chmod(broken, 0o600);
  await assert.rejects(loadOrCreateCacheKey(broken, 'x'), (e: unknown) => e instanceof FarmError && e.code === 'INVALID_CONFIG' && e.message.includes(broken));
});

test('a malformed stored signature is left out of the narinfo instead of breaking it', async () => {
  const info = (await store.getPathInfo(leaf))!;
  const k = cacheKeyOf(other.secretKey);
  const file = { url: 'nar/x.nar', fileHash: info.narHash, fileSize: info.narSize };
  const text = narInfoText({ ...info, sigs: ['no-colon', 'bad:sig\nInjected: yes', ...info.sigs] }, file, 'none', k);
  const sigs = lines(text).filter((l) => l.startsWith('Sig: '));
  assert.deepEqual(sigs, [`Sig: ${info.sigs[0]}`]); // the farm key here is that same other key: one signature, deduplicated
  assert.ok(!text.includes('Injected'));
});

test('a client that hangs up in the middle of a NAR does not disturb the cache', { timeout: 30_000 }, async () => {
  const c = await startCache('none', join(dir.path, 'work-hangup'));
  const narinfo = parseNarInfo((await http(c.url, `/${hashPartOf(tree)}.narinfo`)).body.toString());
  const { hostname, port } = new URL(c.url);
  for (let i = 0; i < 5; i++) {
    await new Promise<void>((resolve, reject) => {
      const req = request({ host: hostname, port, path: `/${narinfo.url}`, agent: false }, (res) => {
        res.once('data', () => {
          req.destroy();
          resolve();
        });
      });
      req.on('error', (e) => (req.destroyed ? resolve() : reject(e)));
      req.end();
    });
  }
  const whole = await http(c.url, `/${narinfo.url}`);
  assert.equal(whole.status, 200);
  assert.ok(whole.body.equals(await dumped(tree)));
  await c.close();
});
