/**
 * Interop with the real Nix 2.8 on this machine (missing binaries fail the test):
 *  (a) a key made by `nix-store --generate-binary-cache-key` loads here and our signatures
 *      with it verify, in our code and in Nix's;
 *  (b) a file:// binary cache written by this test (nix-cache-info, Compression: none
 *      narinfos without CA so signatures are required, nar/*.nar) and signed by a key we
 *      generated passes `nix store verify` and `nix copy --from` with our public key, and
 *      fails both with a different key.
 * Every nix call gets a fresh HOME/XDG_CACHE_HOME: Nix caches narinfo lookups on disk.
 */
import { test, after } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { mkdtempSync, mkdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import {
  Hash,
  formatNarInfo,
  formatNixCacheInfo,
  formatPublicKey,
  generateKeyPair,
  narInfoFileName,
  parseNarInfo,
  parsePublicKey,
  parseSecretKey,
  publicKeyOf,
  publicKeySet,
  sha256,
  signPathInfo,
  verifyDetached,
  type NarInfo,
  type SecretKey,
} from '../src/index.js';
import { readBinaryCacheVectors } from './binary-cache-vectors.js';

const work = mkdtempSync(join(tmpdir(), 'farm-signing-interop-'));
after(() => rmSync(work, { recursive: true, force: true }));
let homeCounter = 0;

function run(cmd: string, args: string[], input?: string): { status: number | null; stdout: string; stderr: string } {
  const home = join(work, `home-${homeCounter++}`);
  mkdirSync(home);
  const r = spawnSync(cmd, args, {
    encoding: 'utf8',
    input,
    timeout: 60_000,
    env: { PATH: process.env['PATH'] ?? '/usr/bin:/bin', HOME: home, XDG_CACHE_HOME: join(home, 'cache'), NIX_CONFIG: "substituters =\n" },
  });
  if (r.error) throw new Error(`cannot run ${cmd}: ${r.error.message}`);
  return { status: r.status, stdout: r.stdout, stderr: r.stderr };
}

function nix(args: string[]): { status: number | null; stdout: string; stderr: string } {
  return run('nix', ['--extra-experimental-features', 'nix-command', '--option', 'substituters', '', ...args]);
}

interface CachedPath {
  readonly info: NarInfo;
  readonly nar: Uint8Array;
}

/** Writes a Compression: none binary cache; every narinfo is signed with `key` and carries no CA. */
function writeCache(dir: string, paths: readonly CachedPath[], key: SecretKey): void {
  mkdirSync(join(dir, 'nar'), { recursive: true });
  writeFileSync(join(dir, 'nix-cache-info'), formatNixCacheInfo({ storeDir: '/nix/store', priority: 40 }));
  for (const p of paths) {
    const fileHash = sha256(p.nar);
    const url = `nar/${fileHash.nix32}.nar`;
    writeFileSync(join(dir, url), p.nar);
    const { ca: _ca, ...inputAddressed } = p.info;
    const unsigned: NarInfo = { ...inputAddressed, url, compression: 'none', fileHash, fileSize: BigInt(p.nar.length), sigs: [] };
    const info: NarInfo = { ...unsigned, sigs: [signPathInfo(unsigned, key)] };
    writeFileSync(join(dir, narInfoFileName(info.path)), formatNarInfo(info));
  }
}

/** The vector NARs (cache "none") plus one path made now by `nix-store --add` in a chroot store. */
let cachedPaths: CachedPath[] | undefined;
function cachePaths(): CachedPath[] {
  if (cachedPaths !== undefined) return cachedPaths;
  const fromVectors = readBinaryCacheVectors().caches.none.narinfos.map((e) => ({
    info: parseNarInfo(e.narinfo),
    nar: new Uint8Array(Buffer.from(e.narFileBase64!, 'base64')),
  }));
  const store = join(work, 'chroot-store');
  const file = join(work, 'interop-payload.txt');
  writeFileSync(file, `signed by farm ${process.pid}\n`);
  const add = run('nix-store', ['--store', store, '--add', file]);
  assert.equal(add.status, 0, add.stderr);
  const path = add.stdout.trim();
  // Nix 2.8's --dump serialises a filesystem path, so dump the file inside the chroot.
  const dump = spawnSync('nix-store', ['--dump', join(store, path)], { env: { PATH: process.env['PATH'] ?? '/usr/bin:/bin', HOME: work } });
  assert.equal(dump.status, 0, String(dump.stderr));
  const nar = new Uint8Array(dump.stdout);
  const queried = run('nix-store', ['--store', store, '-q', '--hash', path]);
  assert.equal(queried.status, 0, queried.stderr);
  assert.ok(Hash.parse(queried.stdout.trim()).equals(sha256(nar)), 'our sha256 of the NAR is the narHash Nix registered');
  const info: NarInfo = {
    path,
    url: 'placeholder',
    compression: 'none',
    narHash: sha256(nar),
    narSize: BigInt(nar.length),
    references: [],
    registrationTime: 0n,
    ultimate: false,
    sigs: [],
  };
  cachedPaths = [...fromVectors, { info, nar }];
  return cachedPaths;
}

test('(a) a key made by nix-store --generate-binary-cache-key loads here and signs verifiably', () => {
  const dir = join(work, 'nix-key');
  mkdirSync(dir);
  const gen = run('nix-store', ['--generate-binary-cache-key', 'nix-made-1', join(dir, 'sec'), join(dir, 'pub')]);
  assert.equal(gen.status, 0, gen.stderr);
  const secret = parseSecretKey(readFileSync(join(dir, 'sec'), 'utf8'));
  const pubText = readFileSync(join(dir, 'pub'), 'utf8');
  assert.equal(secret.name, 'nix-made-1');
  assert.equal(formatPublicKey(publicKeyOf(secret)), pubText.trim(), 'our public key from the seed equals the one Nix wrote');
  const e = readBinaryCacheVectors().caches.none.narinfos[0]!;
  const sig = signPathInfo(parseNarInfo(e.narinfo), secret);
  assert.ok(sig.startsWith('nix-made-1:'));
  assert.equal(verifyDetached(e.fingerprint, sig, publicKeySet([parsePublicKey(pubText)])), true);

  // And Nix accepts our signature made with its key: a cache signed with it verifies with its pub.
  const cache = join(work, 'cache-nix-key');
  writeCache(cache, cachePaths().slice(0, 2), secret);
  const v = nix(['store', 'verify', '--store', `file://${cache}`, '--trusted-public-keys', pubText.trim(), '--all']);
  assert.equal(v.status, 0, v.stderr);
});

test('(b) nix store verify and nix copy accept a cache signed by our generated key, and reject it under another key', () => {
  const ours = generateKeyPair('farm-interop-1');
  const stranger = generateKeyPair('farm-interop-1');
  const cache = join(work, 'cache-ours');
  const paths = cachePaths();
  writeCache(cache, paths, ours.secretKey);
  const pub = formatPublicKey(ours.publicKey);

  const ok = nix(['store', 'verify', '--store', `file://${cache}`, '--trusted-public-keys', pub, '--all']);
  assert.equal(ok.status, 0, ok.stderr);
  for (const p of paths) assert.ok(ok.stderr.includes(`checking '${p.info.path}'`), `verified ${p.info.path}`);

  const bad = nix(['store', 'verify', '--store', `file://${cache}`, '--trusted-public-keys', formatPublicKey(stranger.publicKey), '--all']);
  assert.notEqual(bad.status, 0, 'a cache signed by another key must not verify');
  assert.match(bad.stderr, /untrusted|lacks a signature/);

  // nix copy checks signatures by default (require-sigs); use the freshly added path and one with references.
  const want = [paths.at(-1)!.info.path, paths.find((p) => p.info.references.length === 3)!.info.path];
  const copyTo = (store: string, key: string) =>
    nix(['copy', '--from', `file://${cache}`, '--to', store, '--option', 'trusted-public-keys', key, ...want]);
  const good = copyTo(join(work, 'copy-good'), pub);
  assert.equal(good.status, 0, good.stderr);
  const listed = run('nix-store', ['--store', join(work, 'copy-good'), '-q', '--hash', ...want]);
  assert.equal(listed.status, 0, listed.stderr);
  assert.equal(listed.stdout.trim().split('\n').length, 2);
  const rejected = copyTo(join(work, 'copy-bad'), formatPublicKey(stranger.publicKey));
  assert.notEqual(rejected.status, 0, 'nix copy must refuse paths signed by an untrusted key');
  assert.match(rejected.stderr, /lacks a valid signature|untrusted/);
});
