/**
 * The sandbox's walls, probed from inside with the real bwrap: one probe build records what it
 * could and could not do (one line per probe), and each property is its own assertion. A
 * fixed-output build runs the same network probe to show the probe can succeed when the network
 * namespace is shared.
 */
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { createServer, type Server } from 'node:net';
import { networkInterfaces } from 'node:os';
import { join } from 'node:path';
import { Hash } from '@farm/nix';
import { fakeStorePath, makeScratch, runBuild, scriptDrv, type Scratch } from './fixtures/build-helpers.js';

const T = { timeout: 30_000 };
let server: Server;
let port = 0;
let connections = 0;

before(async () => {
  server = createServer((sock) => {
    connections++;
    sock.end('hello from the host\n');
  });
  await new Promise<void>((resolve) => server.listen(0, '0.0.0.0', resolve));
  const addr = server.address();
  port = typeof addr === 'object' && addr !== null ? addr.port : 0;
});
after(() => new Promise<void>((resolve) => server.close(() => resolve())));

function hostAddresses(): string[] {
  const ips = ['127.0.0.1'];
  for (const list of Object.values(networkInterfaces())) for (const i of list ?? []) if (i.family === 'IPv4' && !i.internal) ips.push(i.address);
  return ips;
}

/** A shell line recording `ok` or `denied` for probe `name`. */
const probe = (name: string, cmd: string) => `if ${cmd} 2>/dev/null; then echo "${name}=ok" >> $out; else echo "${name}=denied" >> $out; fi`;

function results(path: string): Map<string, string> {
  return new Map(readFileSync(path, 'utf8').trim().split('\n').map((l) => l.split('=', 2) as [string, string]));
}

function connectProbes(): string[] {
  return hostAddresses().map((ip, i) => probe(`connect${i}`, `/usr/bin/timeout 5 /usr/bin/bash -c 'exec 3<>/dev/tcp/${ip}/${port} && /usr/bin/head -n1 <&3 | /usr/bin/grep -q hello'`));
}

test('a build sees only its closure, writes only $out and /build, has no network, and gets Nix\'s environment', T, async () => {
  const s: Scratch = makeScratch();
  try {
    const secret = join(s.root, 'host-secret');
    writeFileSync(secret, 'do not read\n');
    // One input path in the closure, to show it is visible but read-only.
    const input = fakeStorePath('probe-input');
    const inputHost = join(s.storeRoot, input.slice('/nix/store/'.length));
    mkdirSync(inputHost);
    writeFileSync(join(inputHost, 'data'), 'input data\n');
    const before = connections;
    const script = [
      '/usr/bin/env -0 > $env',
      'export PATH=/usr/bin:/bin',
      'touch $out',
      ...connectProbes(),
      probe('read-host-file', `cat ${secret}`),
      probe('read-shadow', 'cat /etc/shadow'),
      probe('list-root-home', 'ls /root'),
      probe('read-input', `grep -q 'input data' ${input}/data`),
      probe('write-input', `echo x > ${input}/data`),
      probe('create-in-input', `echo x > ${input}/new`),
      probe('write-tmp', 'echo x > /tmp/x'),
      probe('write-root', 'echo x > /x'),
      probe('write-etc', 'echo x > /etc/x'),
      probe('write-usr', 'echo x > /usr/farm-probe'),
      probe('write-build', 'echo x > /build/x && test -s /build/x'),
      // Like Nix's, the scratch store accepts other names; they must never leave the sandbox.
      'echo x > /nix/store/farm-probe-stray 2>/dev/null || true',
      'echo "uid=$(id -u)" >> $out; echo "gid=$(id -g)" >> $out; echo "hostname=$(cat /proc/sys/kernel/hostname)" >> $out; echo "cwd=$(pwd -P)" >> $out',
      'echo "etc=$(ls /etc | tr "\\n" " ")" >> $out',
      'echo "user=$(grep ":$(id -u):" /etc/passwd | cut -d: -f1)" >> $out',
    ].join('\n');
    const drv = scriptDrv(script, { outputs: ['out', 'env'], env: { FARM_PROBE_VAR: 'from the derivation' }, inputSrcs: [input] });
    const r = await runBuild(s, drv, { inputClosure: [input], cores: 3 });
    assert.equal(r.status, 'built', r.message + r.log);
    const outHost = join(s.storeRoot, drv.outputs.get('out')!.path.slice('/nix/store/'.length));
    const got = results(outHost);

    for (const [k, v] of got) if (k.startsWith('connect')) assert.equal(v, 'denied', `${k}: the build reached the host's port`);
    assert.equal(connections, before, 'the host server saw no connection');
    assert.equal(got.get('read-host-file'), 'denied');
    assert.equal(got.get('read-shadow'), 'denied');
    assert.equal(got.get('list-root-home'), 'denied');
    assert.equal(got.get('read-input'), 'ok', 'the closure is visible');
    assert.equal(got.get('write-input'), 'denied');
    assert.equal(got.get('create-in-input'), 'denied');
    assert.equal(readFileSync(join(inputHost, 'data'), 'utf8'), 'input data\n', 'the input is untouched');
    assert.equal(got.get('write-tmp'), 'denied');
    assert.equal(got.get('write-root'), 'denied');
    assert.equal(got.get('write-etc'), 'denied');
    assert.equal(got.get('write-usr'), 'denied');
    assert.equal(existsSync('/usr/farm-probe'), false);
    assert.equal(got.get('write-build'), 'ok');
    assert.equal(existsSync(join(s.storeRoot, 'farm-probe-stray')), false, 'a stray store write never reaches the store root');
    assert.equal(existsSync('/nix/store/farm-probe-stray'), false);
    assert.equal(got.get('uid'), '1000');
    assert.equal(got.get('gid'), '100');
    assert.equal(got.get('user'), 'nixbld');
    assert.equal(got.get('hostname'), 'localhost');
    assert.equal(got.get('cwd'), '/build');
    assert.equal(got.get('etc'), 'group hosts passwd ', 'only Nix\'s /etc files');

    const envHost = join(s.storeRoot, drv.outputs.get('env')!.path.slice('/nix/store/'.length));
    const env = new Map(readFileSync(envHost, 'utf8').split('\0').filter((l) => l !== '').map((l) => [l.slice(0, l.indexOf('=')), l.slice(l.indexOf('=') + 1)] as [string, string]));
    const expected: Record<string, string> = {
      NIX_BUILD_TOP: '/build',
      TMPDIR: '/build',
      TEMPDIR: '/build',
      TMP: '/build',
      TEMP: '/build',
      PWD: '/build',
      HOME: '/homeless-shelter',
      NIX_STORE: '/nix/store',
      PATH: '/path-not-set',
      NIX_BUILD_CORES: '3',
      NIX_LOG_FD: '2',
      TERM: 'xterm-256color',
      FARM_PROBE_VAR: 'from the derivation',
      out: drv.outputs.get('out')!.path,
      env: drv.outputs.get('env')!.path,
      name: 'probe',
    };
    for (const [k, v] of Object.entries(expected)) assert.equal(env.get(k), v, `env ${k}`);
    const extra = [...env.keys()].filter((k) => !(k in expected) && !drv.env.has(k) && k !== 'SHLVL' && k !== '_');
    assert.deepEqual(extra, [], 'no host variables leak in');
  } finally {
    s.remove();
  }
});

test('a fixed-output derivation shares the network namespace (and its output hash is checked)', T, async () => {
  const s = makeScratch();
  try {
    const content = 'fixed content\n';
    const hash = Hash.of('sha256', content).base16;
    const script = ['export PATH=/usr/bin:/bin', ...connectProbes().slice(0, 1).map((l) => l.replace('>> $out', '>> /build/probes')), `printf 'fixed content\\n' > $out`, 'cat /build/probes'].join('\n');
    const before = connections;
    const r = await runBuild(s, scriptDrv(script, { fixed: { algo: 'sha256', hash } }));
    assert.equal(r.status, 'built', r.message + r.log);
    assert.match(r.log, /connect0=ok/, 'the build reached the host loopback port');
    assert.ok(connections > before, 'the host server saw the connection');
    assert.equal(r.outputs[0]!.references.length, 0);

    const wrong = await runBuild(s, scriptDrv(`printf 'other content\\n' > $out`, { fixed: { algo: 'sha256', hash } }));
    assert.equal(wrong.status, 'hash-mismatch');
    assert.equal(wrong.failureClass, 'build');
    assert.match(wrong.message, /^hash mismatch in fixed-output derivation '\/nix\/store\/.*':\n  specified: sha256:[0-9a-z]{52}\n     got:    sha256:[0-9a-z]{52}$/);
  } finally {
    s.remove();
  }
});
