/**
 * `farm cache key` as a real process against the stub coordinator: the public key line first
 * (alone with --quiet), the cache URL and a nix.conf snippet, --json as {publicKey, cacheUrl},
 * a coordinator without a cache as a clear error with exit 1, and the `farm cache` group help.
 */
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { formatPublicKey, generateKeyPair } from '@farm/nix';
import { startStubCoordinator, type StubCoordinator } from './fixtures/stub-coordinator.js';
import { runFarm } from './fixtures/stub-coordinator-run.js';

const publicKey = formatPublicKey(generateKeyPair('farm-cache-test-1').publicKey);
const cacheUrl = 'http://127.0.0.1:45123';
let withCache: StubCoordinator;
let without: StubCoordinator;

before(async () => {
  withCache = await startStubCoordinator({ doorInfo: { cacheUrl, cachePublicKey: publicKey, sshAddress: '', sshHostKey: '' } });
  without = await startStubCoordinator();
});

after(async () => {
  await withCache?.close();
  await without?.close();
});

test('farm cache key prints the key line, the URL and a nix.conf snippet', async () => {
  const r = await runFarm(['cache', 'key', '--coordinator', withCache.address]);
  assert.equal(r.status, 0, r.stderr);
  const lines = r.stdout.split('\n');
  assert.equal(lines[0], publicKey);
  assert.ok(lines.includes(`binary cache: ${cacheUrl}`), r.stdout);
  assert.ok(lines.includes(`extra-substituters = ${cacheUrl}`), r.stdout);
  assert.ok(lines.includes(`extra-trusted-public-keys = ${publicKey}`), r.stdout);
  // Every line of the snippet is nix.conf syntax: a comment or `name = value`.
  const snippet = lines.slice(lines.findIndex((l) => l.startsWith('# nix.conf'))).filter((l) => l !== '');
  assert.ok(snippet.every((l) => l.startsWith('#') || /^[a-z-]+ = \S+$/.test(l)), snippet.join('\n'));
});

test('--quiet prints only the key line; --json prints {publicKey, cacheUrl}', async () => {
  const quiet = await runFarm(['cache', 'key', '--quiet', '--coordinator', withCache.address]);
  assert.equal(quiet.status, 0, quiet.stderr);
  assert.equal(quiet.stdout, `${publicKey}\n`);
  const json = await runFarm(['cache', 'key', '--json'], { env: { FARM_COORDINATOR: withCache.address } });
  assert.equal(json.status, 0, json.stderr);
  assert.deepEqual(JSON.parse(json.stdout), { publicKey, cacheUrl });
});

test('a coordinator that serves no binary cache is a clear error', async () => {
  for (const args of [[], ['--json'], ['--quiet']]) {
    const r = await runFarm(['cache', 'key', ...args, '--coordinator', without.address]);
    assert.equal(r.status, 1);
    assert.equal(r.stdout, '');
    assert.match(r.stderr, new RegExp(`^farm cache key: the farm coordinator at ${without.address.replace(/\./g, '\\.')} serves no binary cache`));
  }
  const none = await runFarm(['cache', 'key']);
  assert.equal(none.status, 1);
  assert.match(none.stderr, /^farm cache key: no farm found/);
});

test('farm cache lists its commands; farm cache key --help has examples', async () => {
  for (const args of [['cache'], ['cache', '--help']]) {
    const r = await runFarm(args);
    assert.equal(r.status, 0, r.stderr);
    assert.match(r.stdout, /farm cache key\s+print the binary cache's public key/);
  }
  const help = await runFarm(['cache', 'key', '--help']);
  assert.equal(help.status, 0);
  assert.match(help.stdout, /Examples/);
  assert.match(help.stdout, /--quiet/);
  const all = await runFarm(['--help']);
  assert.match(all.stdout, /farm cache key\b/);
});
