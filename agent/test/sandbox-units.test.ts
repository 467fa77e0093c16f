/** The sandbox's pure pieces and output canonicalisation, without running bwrap. */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { chmodSync, lstatSync, mkdirSync, readlinkSync, symlinkSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { bwrapArguments, canonicalisePathMetaData, failureClassOf, makeBuildEnv, parseSandboxPath, passAsFileName, preferSymlinks, resolveSandboxPaths } from '../src/index.js';
import { LogTail } from '../src/build/log-tail.js';
import { makeScratch } from './fixtures/build-helpers.js';

test('sandbox paths: PATH, TARGET=SOURCE, optional PATH?, and refusals', () => {
  assert.deepEqual(parseSandboxPath('/bin/sh'), { bind: { target: '/bin/sh', source: '/bin/sh' }, optional: false });
  assert.deepEqual(parseSandboxPath('/bin/sh=/usr/bin/dash'), { bind: { target: '/bin/sh', source: '/usr/bin/dash' }, optional: false });
  assert.deepEqual(parseSandboxPath('/lib64?'), { bind: { target: '/lib64', source: '/lib64' }, optional: true });
  assert.throws(() => parseSandboxPath('bin/sh'), /not an absolute path/);
  assert.throws(() => parseSandboxPath('/nix/store'), /would hide the store/);
  assert.throws(() => parseSandboxPath('/build/x=/usr'), /would hide the store or the build directory/);
  const exists = (p: string) => p === '/here';
  assert.deepEqual(resolveSandboxPaths(['/here', '/gone?'], exists), [{ target: '/here', source: '/here' }]);
  assert.throws(() => resolveSandboxPaths(['/gone'], exists), /'\/gone' does not exist on this host/);
});

test('sandbox paths: a host symlink into another identity bind becomes the same symlink, not a second bind', () => {
  const links: Record<string, string> = { '/bin': 'usr/bin', '/lib64': 'usr/lib64', '/opt/tool': '/srv/tool', '/sbin': 'usr/sbin' };
  const readLink = (p: string) => links[p];
  const bind = (target: string, source = target) => ({ target, source });
  const got = preferSymlinks([bind('/bin'), bind('/usr'), bind('/lib64'), bind('/opt/tool'), bind('/sbin'), bind('/sbin/extra')], readLink);
  assert.deepEqual(got[0], { target: '/bin', source: '/bin', symlink: 'usr/bin' });
  assert.deepEqual(got[2], { target: '/lib64', source: '/lib64', symlink: 'usr/lib64' });
  assert.equal(got[3]!.symlink, undefined, 'a link pointing outside every bind stays a bind');
  assert.equal(got[4]!.symlink, undefined, 'a bind below it needs a real directory for its mount point');
  assert.equal(preferSymlinks([bind('/bin')], readLink)[0]!.symlink, undefined, 'no /usr bind: the link would dangle');
  assert.equal(preferSymlinks([bind('/bin', '/elsewhere'), bind('/usr')], readLink)[0]!.symlink, undefined, 'TARGET=SOURCE binds stay binds');
  const args = bwrapArguments({
    scratchStore: '/s/store', buildDir: '/s/build', etcDir: '/s/etc',
    inputs: [], sandboxPaths: got.slice(0, 2), network: false, env: new Map(), builder: '/bin/sh', args: [],
  }).options.join(' ');
  assert.ok(args.includes('--symlink usr/bin /bin') && args.includes('--ro-bind /usr /usr') && !args.includes('--ro-bind /bin /bin'));
});

test('build env: Nix\'s variables, derivation overrides where Nix allows them, passAsFile', () => {
  const drvEnv = new Map([
    ['PATH', '/usr/bin'],
    ['HOME', '/drv-home'],
    ['TMPDIR', '/drv-tmp'],
    ['TERM', 'dumb'],
    ['out', '/nix/store/x-out'],
    ['passAsFile', 'big other'],
    ['big', 'contents'],
  ]);
  const { env, files } = makeBuildEnv({ drvEnv, cores: 4, fixedOutput: false });
  assert.equal(env.get('PATH'), '/usr/bin', 'the derivation may set PATH');
  assert.equal(env.get('HOME'), '/drv-home', 'and HOME (set before the derivation env, as in Nix)');
  assert.equal(env.get('TMPDIR'), '/build', 'but not the build dir variables');
  assert.equal(env.get('TERM'), 'xterm-256color', 'nor TERM');
  assert.equal(env.get('NIX_BUILD_CORES'), '4');
  assert.equal(env.get('NIX_STORE'), '/nix/store');
  assert.equal(env.get('NIX_LOG_FD'), '2');
  assert.equal(env.has('NIX_OUTPUT_CHECKED'), false);
  assert.equal(env.has('big'), false);
  assert.equal(env.get('bigPath'), `/build/${passAsFileName('big')}`);
  assert.deepEqual([...files], [[passAsFileName('big'), 'contents']]);
  assert.match(passAsFileName('big'), /^\.attr-[0-9a-z]{52}$/);
  const impure = new Map([['impureEnvVars', 'http_proxy NOT_SET']]);
  const fod = makeBuildEnv({ drvEnv: impure, cores: 1, fixedOutput: true, impureEnv: (n) => (n === 'http_proxy' ? 'http://proxy:3128' : undefined) });
  assert.equal(fod.env.get('http_proxy'), 'http://proxy:3128', 'fixed-output builds get impureEnvVars from the host');
  assert.equal(fod.env.get('NOT_SET'), '');
  assert.equal(makeBuildEnv({ drvEnv: impure, cores: 1, fixedOutput: false, impureEnv: () => 'leak' }).env.has('http_proxy'), false, 'others never do');
  assert.equal(fod.env.get('PATH'), '/path-not-set');
  assert.equal(fod.env.get('HOME'), '/homeless-shelter');
  assert.equal(fod.env.get('NIX_OUTPUT_CHECKED'), '1');
});

test('bwrap arguments: isolated unless fixed-output, inputs bound read-only inside the store bind', () => {
  const layout = {
    scratchStore: '/s/store',
    buildDir: '/s/build',
    etcDir: '/s/etc',
    inputs: [{ source: '/root/store/abc-in', target: '/nix/store/abc-in' }],
    sandboxPaths: [{ source: '/usr', target: '/usr' }],
    network: false,
    env: new Map([['A', 'b c']]),
    builder: '/bin/sh',
    args: ['-c', 'true'],
  };
  const { options, command } = bwrapArguments(layout);
  assert.deepEqual(command, ['--', '/bin/sh', '-c', 'true']);
  assert.ok(options.includes('--unshare-all') && !options.includes('--share-net'));
  const at = (...seq: string[]) => options.findIndex((_, i) => seq.every((s, j) => options[i + j] === s));
  assert.ok(at('--bind', '/s/store', '/nix/store') >= 0);
  assert.ok(at('--ro-bind', '/root/store/abc-in', '/nix/store/abc-in') > at('--bind', '/s/store', '/nix/store'), 'inputs are mounted on top of the scratch store');
  assert.ok(at('--remount-ro', '/') > at('--bind', '/s/build', '/build'), '/ becomes read-only after every mount point exists');
  assert.ok(at('--setenv', 'A', 'b c') > at('--clearenv'));
  assert.ok(at('--uid', '1000') >= 0 && at('--gid', '100') >= 0);
  const fod = bwrapArguments({ ...layout, network: true }).options;
  assert.ok(fod.includes('--share-net'));
  assert.ok(fod.join(' ').includes('--ro-bind-try /etc/resolv.conf /etc/resolv.conf'));
  assert.ok(fod.join(' ').includes('--ro-bind /s/etc/passwd /etc/passwd'), 'a fixed-output build gets the host files beside Nix\'s, one by one');
  assert.ok(at('--ro-bind', '/s/etc', '/etc') >= 0, 'otherwise /etc is one bind of the directory of Nix\'s files');
  const withEtcPath = bwrapArguments({ ...layout, sandboxPaths: [{ source: '/etc/ssl/certs', target: '/etc/ssl/certs' }] }).options.join(' ');
  assert.ok(!withEtcPath.includes('/s/etc /etc ') && withEtcPath.includes('--ro-bind /s/etc/hosts /etc/hosts'), 'a sandbox path inside /etc needs a writable /etc for its mount point');
});

test('log tail keeps the last lines across chunk and UTF-8 boundaries', () => {
  const t = new LogTail(3);
  const text = Buffer.from('a\nb\nc\nd€\ne');
  for (let i = 0; i < text.length; i++) t.push(text.subarray(i, i + 1));
  assert.deepEqual(t.get(), ['c', 'd€', 'e']);
  t.push(Buffer.from('\n'));
  assert.deepEqual(t.get(), ['c', 'd€', 'e']);
});

test('canonicalisation: mtime 1, 0444/0555 by the owner x bit, no setuid/sticky, symlinks kept', () => {
  const s = makeScratch();
  try {
    const root = join(s.root, 'out');
    mkdirSync(join(root, 'sub'), { recursive: true });
    writeFileSync(join(root, 'plain'), 'x');
    writeFileSync(join(root, 'exec'), 'x');
    writeFileSync(join(root, 'group-exec-only'), 'x');
    chmodSync(join(root, 'exec'), 0o4755);
    chmodSync(join(root, 'group-exec-only'), 0o610);
    chmodSync(join(root, 'sub'), 0o1777);
    symlinkSync('../plain', join(root, 'sub', 'link'));
    canonicalisePathMetaData(root);
    const mode = (p: string) => lstatSync(join(root, p)).mode & 0o7777;
    assert.equal(mode('plain'), 0o444);
    assert.equal(mode('exec'), 0o555);
    assert.equal(mode('group-exec-only'), 0o444, 'Nix looks only at the owner execute bit');
    assert.equal(mode('sub'), 0o555);
    assert.equal(mode(''), 0o555);
    assert.equal(readlinkSync(join(root, 'sub', 'link')), '../plain');
    for (const p of ['', 'plain', 'exec', 'sub', 'sub/link']) {
      const st = lstatSync(join(root, p));
      assert.equal(st.mtimeMs, 1000, `mtime of '${p}'`);
      assert.equal(st.uid, 0);
    }
  } finally {
    s.remove();
  }
});

test('only sandbox errors are infrastructure failures', () => {
  assert.equal(failureClassOf('sandbox-error'), 'infrastructure');
  for (const s of ['failed', 'timed-out', 'silent-too-long', 'log-limit-exceeded', 'hash-mismatch', 'output-missing'] as const) assert.equal(failureClassOf(s), 'build');
  assert.equal(failureClassOf('built'), 'none');
  assert.equal(failureClassOf('cancelled'), 'cancelled');
});
