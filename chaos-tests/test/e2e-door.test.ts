/**
 * The Nix door end to end (issue 6), with the real Nix 2.8 client: `nix-build --max-jobs 0
 * --builders 'ssh-ng://localhost?remote-program=farm-nix-stdio …'` (and `ssh://`) offloads every
 * derivation of an expression to a `farm up`; the client's store then holds the same output paths
 * with the same NAR hashes as the real Nix building the expression itself. Also: a failing build
 * fails in the client with the builder's log, an aarch64-linux derivation runs on the emulated
 * aarch64 agent, `nix copy` to and from the farm round-trips a closure, and malformed protocol
 * bytes end only their own session.
 */
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync, spawnSync } from 'node:child_process';
import { appendFileSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { FARM_BIN, REPO_ROOT, runFarm, type FarmUp, type TempDir } from '@farm/testkit';
import { FarmClient, startFarmFixture, stopFarmFixture } from '../src/index.js';

const RELAY = join(REPO_ROOT, 'cli', 'bin', 'farm-nix-stdio');
const NONCE = `${Date.now()}-${process.pid}`;

let dir: TempDir;
let farm: FarmUp;
let exprFile: string;
let client: FarmClient;

const farmEnv = (): NodeJS.ProcessEnv => ({ ...process.env, FARM_STATE_DIR: farm.stateDir, FARM_COORDINATOR: '', HOME: dir.path, XDG_CACHE_HOME: join(dir.path, 'cache') });

/**
 * Three derivations in a chain (one with two outputs, each output referring to its input), a
 * failing one and an aarch64-linux one. Shell built-ins only: a sandbox has no coreutils.
 */
const EXPRESSION = `
{ nonce }:
let
  sh = args: name: extra: derivation ({ inherit name; system = "x86_64-linux"; builder = "/bin/sh"; args = [ "-c" args ]; } // extra);
  a = sh "echo building a; echo a-\${nonce} > $out" "door-a" { };
  b = sh "echo building b; read x < \${a}; echo \\"b from $x \${a}\\" > $out; echo dev > $dev" "door-b" { outputs = [ "out" "dev" ]; };
  c = sh "read x < \${b}; read y < \${b.dev}; echo \\"c: $x $y \${b.dev}\\" > $out" "door-c" { };
  fails = sh "echo this build fails on purpose; echo last words before exit 3; exit 3" "door-fails-\${nonce}" { };
  arm = derivation { name = "door-arm-\${nonce}"; system = "aarch64-linux"; builder = "/bin/sh"; args = [ "-c" "echo arm > $out" ]; };
in { inherit a b c fails arm; }
`;

function nix(args: readonly string[], env: NodeJS.ProcessEnv = farmEnv()): { code: number; stdout: string; stderr: string } {
  const r = spawnSync(args[0]!, args.slice(1), { encoding: 'utf8', env, maxBuffer: 64 << 20, timeout: 120_000 });
  return { code: r.status ?? -1, stdout: r.stdout, stderr: r.stderr };
}

function lines(s: string): string[] {
  return s.split('\n').filter((l) => l !== '');
}

function freshStore(name: string): string {
  return join(dir.path, `store-${name}`);
}

function builders(scheme: 'ssh' | 'ssh-ng', systems = 'x86_64-linux,aarch64-linux'): string {
  return `${scheme}://localhost?remote-program=${RELAY} ${systems} - 4`;
}

/** nix-build of `attr` in a fresh client store, everything offloaded through the door. */
function offload(attr: string, scheme: 'ssh' | 'ssh-ng', store: string, nonce = NONCE): { code: number; stdout: string; stderr: string } {
  return nix(['nix-build', '--store', store, exprFile, '-A', attr, '--argstr', 'nonce', nonce, '--no-out-link', '--max-jobs', '0', '--option', 'substituters', '', '--builders', builders(scheme)]);
}

/** What the real Nix builds from the same expression in this machine's own store: path → NAR hash. */
function localBuild(attr: string, nonce = NONCE): Map<string, string> {
  const outs = lines(execFileSync('nix-build', [exprFile, '-A', attr, '--argstr', 'nonce', nonce, '--no-out-link', '--option', 'substituters', ''], { encoding: 'utf8' }));
  const closure = lines(execFileSync('nix-store', ['-qR', ...outs], { encoding: 'utf8' }));
  return new Map(closure.map((p) => [p, execFileSync('nix-store', ['-q', '--hash', p], { encoding: 'utf8' }).trim()]));
}

/** An ed25519 key pair made with the real ssh-keygen; returns the private key file. */
function sshKey(name: string, options = ''): string {
  const file = join(dir.path, `key-${name}`);
  execFileSync('ssh-keygen', ['-q', '-t', 'ed25519', '-N', '', '-C', name, '-f', file]);
  appendFileSync(authorizedKeys(), `${options}${options === '' ? '' : ' '}${readFileSync(`${file}.pub`, 'utf8')}`);
  return file;
}

function authorizedKeys(): string {
  return join(farm.stateDir, 'coordinator', 'door', 'authorized_keys');
}

/** The real ssh client at the farm's SSH port, as NIX_SSHOPTS for Nix. */
function sshEnv(): NodeJS.ProcessEnv {
  const { ssh } = JSON.parse(readFileSync(join(farm.stateDir, 'address.json'), 'utf8')) as { ssh: string };
  const port = ssh.slice(ssh.lastIndexOf(':') + 1);
  return { ...farmEnv(), NIX_SSHOPTS: `-p ${port} -o StrictHostKeyChecking=no -o UserKnownHostsFile=/dev/null -o IdentitiesOnly=yes -o BatchMode=yes -o LogLevel=ERROR` };
}

function hashIn(store: string, path: string): string {
  return execFileSync('nix-store', ['--store', store, '-q', '--hash', path], { encoding: 'utf8' }).trim();
}

before(async () => {
  ({ dir, farm, client } = await startFarmFixture('farm-door-', ['--agents', '1', '--max-jobs', '2', '--emulation', 'qemu']));
  exprFile = join(dir.path, 'door.nix');
  writeFileSync(exprFile, EXPRESSION);
});

after(() => stopFarmFixture({ dir, farm, client }));

for (const scheme of ['ssh-ng', 'ssh'] as const) {
  test(`nix-build --max-jobs 0 --builders '${scheme}://localhost?remote-program=farm-nix-stdio': every derivation built on the farm, same paths and NAR hashes as a local build`, async () => {
    const store = freshStore(scheme);
    const nonce = `${NONCE}-${scheme}`; // each scheme builds its own derivations, none already valid
    const r = offload('c', scheme, store, nonce);
    assert.equal(r.code, 0, `nix-build failed:\n${r.stderr.slice(-4000)}`);
    const out = lines(r.stdout)[0]!;
    const built = lines(r.stderr).filter((l) => l.startsWith('building ') && l.includes(`on '${scheme}://localhost`));
    assert.ok(built.length >= 1, `the client offloaded (stderr:\n${r.stderr.slice(-2000)})`);
    const reference = localBuild('c', nonce);
    assert.ok(reference.has(out), `the farm's output ${out} is the path the real Nix computes`);
    for (const [path, hash] of reference) assert.equal(hashIn(store, path), hash, `${path} has the NAR hash of the local build`);
    // Built by the farm, not somewhere else: the coordinator recorded a build of each derivation.
    for (const path of reference.keys()) {
      const drv = execFileSync('nix-store', ['-q', '--deriver', path], { encoding: 'utf8' }).trim();
      const records = await client.builds(drv);
      assert.ok(records.some((b) => b.status === 'built'), `the farm built ${drv}`);
    }
  });
}

test('a build that fails on the farm fails in the client, with the builder log visible (ssh-ng and ssh)', () => {
  for (const scheme of ['ssh-ng', 'ssh'] as const) {
    const r = offload('fails', scheme, freshStore(`fails-${scheme}`), `${NONCE}-${scheme}`);
    assert.notEqual(r.code, 0, 'nix-build fails');
    assert.match(r.stderr, /this build fails on purpose/, `${scheme}: the build log reaches the client`);
    assert.match(r.stderr, /last words before exit 3/);
    assert.match(r.stderr, /failed with exit code 3/, `${scheme}: the builder's exit code is named`);
  }
});

test('an aarch64-linux derivation offloaded through the door runs on the farm’s aarch64 agent', async () => {
  const store = freshStore('arm');
  const r = offload('arm', 'ssh-ng', store);
  assert.equal(r.code, 0, r.stderr.slice(-3000));
  const drv = lines(execFileSync('nix-instantiate', ['--store', store, exprFile, '-A', 'arm', '--argstr', 'nonce', NONCE], { encoding: 'utf8', env: farmEnv() }))[0]!;
  const records = await client.builds(drv);
  assert.equal(records.length, 1, `one build of ${drv}`);
  assert.match(records[0]!.agentId, /-aarch64$/, `built on ${records[0]!.agentId}`);
  assert.equal(records[0]!.status, 'built');
});

test('nix copy --to ssh-ng://… then --from ssh-ng://… into a fresh store round-trips a closure', () => {
  // A closure made by the client itself (never built by the farm): the outputs of the chain.
  const local = localBuild('c');
  const roots = [...local.keys()];
  const to = nix(['nix', '--extra-experimental-features', 'nix-command', 'copy', '--option', 'substituters', '', '--no-check-sigs', '--to', `ssh-ng://localhost?remote-program=${RELAY}`, ...roots]);
  assert.equal(to.code, 0, to.stderr);
  const fresh = freshStore('copy-from');
  const from = nix(['nix', '--extra-experimental-features', 'nix-command', 'copy', '--option', 'substituters', '', '--no-check-sigs', '--from', `ssh-ng://localhost?remote-program=${RELAY}`, '--to', fresh, ...roots]);
  assert.equal(from.code, 0, from.stderr);
  for (const [path, hash] of local) assert.equal(hashIn(fresh, path), hash, `${path} came back intact`);
  const viaServe = freshStore('copy-from-serve');
  const serve = nix(['nix', '--extra-experimental-features', 'nix-command', 'copy', '--option', 'substituters', '', '--no-check-sigs', '--from', `ssh://localhost?remote-program=${RELAY}`, '--to', viaServe, ...roots]);
  assert.equal(serve.code, 0, serve.stderr);
  for (const [path, hash] of local) assert.equal(hashIn(viaServe, path), hash, `${path} came back intact over ssh://`);
});

test('malformed protocol bytes end only their own session, with a clear error', () => {
  for (const [args, bytes, expected] of [
    [['--stdio'], Buffer.from('not the worker magic at all'), /bad magic|unexpected end/],
    [['--serve', '--write'], Buffer.concat([Buffer.from('eb9d0c39000000000702000000000000', 'hex'), Buffer.from('ff00000000000000', 'hex')]), /unknown serve command 255/],
  ] as const) {
    const r = spawnSync(RELAY, [...args], { input: bytes, env: farmEnv(), encoding: 'utf8', timeout: 30_000 });
    assert.equal(r.status, 1, `exit status 1 (${r.stderr})`);
    assert.match(r.stderr, /^farm: error: /m);
    assert.match(r.stderr, expected);
  }
  // The farm still answers.
  const again = offload('a', 'ssh-ng', freshStore('after-garbage'));
  assert.equal(again.code, 0, again.stderr.slice(-2000));
});

for (const scheme of ['ssh-ng', 'ssh'] as const) {
  test(`through the farm's SSH endpoint with the real ssh: --builders '${scheme}://farm@127.0.0.1 … <key>' builds everything on the farm`, () => {
    const key = sshKey(`alice-${scheme}`);
    const nonce = `${NONCE}-real-${scheme}`;
    const store = freshStore(`real-${scheme}`);
    const r = nix(['nix-build', '--store', store, exprFile, '-A', 'c', '--argstr', 'nonce', nonce, '--no-out-link', '--max-jobs', '0', '--option', 'substituters', '', '--builders', `${scheme}://farm@127.0.0.1 x86_64-linux ${key} 4`], sshEnv());
    assert.equal(r.code, 0, `nix-build failed:\n${r.stderr.slice(-4000)}`);
    assert.match(r.stderr, new RegExp(`on '${scheme}://farm@127\\.0\\.0\\.1'`), 'built remotely through ssh');
    const reference = localBuild('c', nonce);
    for (const [path, hash] of reference) assert.equal(hashIn(store, path), hash, `${path} has the NAR hash of the local build`);
  });
}

test('the SSH endpoint: per-key systems are enforced, unknown keys and shells are refused', () => {
  const armOnly = sshKey('arm-only', 'farm-systems="aarch64-linux"');
  const r = nix(['nix-build', '--store', freshStore('arm-only'), exprFile, '-A', 'a', '--argstr', 'nonce', `${NONCE}-arm-only`, '--no-out-link', '--max-jobs', '0', '--option', 'substituters', '', '--builders', `ssh-ng://farm@127.0.0.1 x86_64-linux ${armOnly} 4`], sshEnv());
  assert.notEqual(r.code, 0);
  assert.match(r.stderr, /'arm-only' may not build for system 'x86_64-linux'/);
  const opts = (sshEnv()['NIX_SSHOPTS'] ?? '').split(' ');
  const stranger = join(dir.path, 'key-stranger');
  execFileSync('ssh-keygen', ['-q', '-t', 'ed25519', '-N', '', '-f', stranger]);
  const denied = spawnSync('ssh', [...opts, '-i', stranger, 'farm@127.0.0.1', 'nix-daemon', '--stdio'], { encoding: 'utf8', input: '' });
  assert.notEqual(denied.status, 0);
  assert.match(denied.stderr, /Permission denied/);
  const shell = spawnSync('ssh', [...opts, '-T', '-i', armOnly, 'farm@127.0.0.1'], { encoding: 'utf8', input: '' });
  assert.equal(shell.status, 1);
  assert.match(shell.stderr, /interactive shells are not offered/);
  const unknown = spawnSync('ssh', [...opts, '-i', armOnly, 'farm@127.0.0.1', 'rm', '-rf', '/'], { encoding: 'utf8', input: '' });
  assert.equal(unknown.status, 127);
  assert.match(unknown.stderr, /unknown command 'rm -rf \/'/);
});

test('signature checking on: nix copy --from http://farm, ssh-ng:// and ssh:// takes the key farm cache key prints, and refuses a wrong one', async () => {
  // Outputs the farm built through the door.
  const nonce = `${NONCE}-cache`;
  const r = offload('c', 'ssh-ng', freshStore('cache-build'), nonce);
  assert.equal(r.code, 0, r.stderr.slice(-3000));
  const reference = localBuild('c', nonce);
  const key = await runFarm(['cache', 'key', '--json'], { env: farmEnv() });
  assert.equal(key.code, 0, key.stderr);
  const { publicKey, cacheUrl } = JSON.parse(key.stdout) as { publicKey: string; cacheUrl: string };
  assert.match(publicKey, /^[^:]+:[A-Za-z0-9+/]{43}=$/);
  const copy = (trusted: string, store: string) =>
    nix(['nix', '--extra-experimental-features', 'nix-command', 'copy', '--option', 'substituters', '', '--option', 'trusted-public-keys', trusted, '--from', cacheUrl, '--to', store, ...reference.keys()]);
  const good = freshStore('from-cache');
  const ok = copy(publicKey, good);
  assert.equal(ok.code, 0, ok.stderr);
  for (const [path, hash] of reference) assert.equal(hashIn(good, path), hash, `${path} from the cache has the local build's NAR hash`);
  const wrongKey = 'someone-else:11qYAYKxCrfVS/7TyWQHOg7hcvPapiMlrwIaaPcHURo=';
  const bad = copy(wrongKey, freshStore('from-cache-wrong-key'));
  assert.notEqual(bad.code, 0, 'a cache signed with another key is refused');
  assert.match(bad.stderr, /signature|trusted/i);
  // The door shows the same signatures: nix copy --from ssh-ng:// and ssh:// check them as well.
  for (const scheme of ['ssh-ng', 'ssh'] as const) {
    const fromDoor = (trusted: string, store: string) =>
      nix(['nix', '--extra-experimental-features', 'nix-command', 'copy', '--option', 'substituters', '', '--option', 'trusted-public-keys', trusted, '--from', `${scheme}://localhost?remote-program=${RELAY}`, '--to', store, ...reference.keys()]);
    const signed = freshStore(`from-door-${scheme}`);
    const accepted = fromDoor(publicKey, signed);
    assert.equal(accepted.code, 0, `${scheme}: the farm's signature is accepted:\n${accepted.stderr}`);
    for (const [path, hash] of reference) assert.equal(hashIn(signed, path), hash, `${path} over ${scheme}:// has the local build's NAR hash`);
    const refused = fromDoor(wrongKey, freshStore(`from-door-${scheme}-wrong-key`));
    assert.notEqual(refused.code, 0, `${scheme}: without the farm's key the paths are refused`);
    assert.match(refused.stderr, /signature|trusted/i);
  }
});

test('nix build --store ssh-ng://… (the derivations uploaded, then built with BuildPathsWithResults) names the outputs', () => {
  const nonce = `${NONCE}-store`;
  const store = `ssh-ng://localhost?remote-program=${RELAY}`;
  const r = nix(['nix', '--extra-experimental-features', 'nix-command', 'build', '--store', store, '--option', 'substituters', '', '--no-link', '--json', '-f', exprFile, '--argstr', 'nonce', nonce, 'c']);
  assert.equal(r.code, 0, r.stderr.slice(-3000));
  const [built] = JSON.parse(r.stdout) as { drvPath: string; outputs: Record<string, string> }[];
  const reference = localBuild('c', nonce);
  assert.ok(built !== undefined && reference.has(built.outputs['out'] ?? ''), `nix build names the output: ${r.stdout}`);
});

test('farm nix-stdio (the same session over gRPC, for a farm without a local socket) as remote-program', () => {
  const nonce = `${NONCE}-grpc`;
  const store = freshStore('grpc');
  const env = { ...farmEnv(), FARM_COORDINATOR: farm.grpc };
  const r = nix(['nix-build', '--store', store, exprFile, '-A', 'b', '--argstr', 'nonce', nonce, '--no-out-link', '--max-jobs', '0', '--option', 'substituters', '', '--builders', `ssh-ng://localhost?remote-program=${FARM_BIN}%20nix-stdio x86_64-linux - 4`], env);
  assert.equal(r.code, 0, r.stderr.slice(-3000));
  for (const [path, hash] of localBuild('b', nonce)) assert.equal(hashIn(store, path), hash);
  const usage = spawnSync(FARM_BIN, ['nix-stdio'], { encoding: 'utf8', env, input: '' });
  assert.equal(usage.status, 1);
  assert.match(usage.stderr, /exactly one of --serve \(ssh:\/\/\) or --stdio/);
});
