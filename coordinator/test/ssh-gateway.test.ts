/**
 * The SSH door with the real OpenSSH client (/usr/bin/ssh) against a test NixDoor that writes
 * `mode name systems maxBuilds` to stdout and a line to stderr, then echoes stdin until EOF:
 * bytes both ways, the commands Nix sends and the modes they map to, refusals (unknown command,
 * shell, unknown key), forced commands, farm-* options and config `keys` reaching the principal,
 * authorized_keys edits taking effect, ControlMaster multiplexing, the host key kept across
 * restarts, a killed client or a closing gateway aborting the door session — and real Nix
 * (nix copy / path-info over ssh-ng:// and ssh://) reaching a farm store through the real door.
 */
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { execFile, spawn, type ChildProcess } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { EventEmitter, once } from 'node:events';
import { appendFile, readFile, stat, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { promisify } from 'node:util';
import ssh2 from 'ssh2';
import type { ParsedKey } from 'ssh2';
import { createLogger, type Logger } from '@farm/common';
import { makeTempDir, type TempDir } from '@farm/testkit';
import { withStore } from './store-fixtures.js';
import { createNixDoor, startSshGateway, type DoorPrincipal, type NixDoor, type NixSessionMode, type NixSessionStreams, type RunningSshGateway } from '../src/index.js';

const run = promisify(execFile);
/** Every test ends well within this; a hung ssh fails the test instead of the whole run. */
const T = { timeout: 30_000 };

interface DoorCall {
  readonly mode: NixSessionMode;
  readonly principal: DoorPrincipal;
}

/** Echoes stdin; principal 'three' exits 3. Reports starts and aborts as events. */
class EchoDoor implements NixDoor {
  readonly calls: DoorCall[] = [];
  readonly events = new EventEmitter();

  async run(mode: NixSessionMode, principal: DoorPrincipal, { input, output, log, signal }: NixSessionStreams): Promise<number> {
    this.calls.push({ mode, principal });
    signal.addEventListener('abort', () => this.events.emit('abort', principal.name), { once: true });
    output.write(`${mode} ${principal.name} ${principal.systems?.join(',') ?? '-'} ${principal.maxBuilds ?? '-'}\n`);
    log.write(`door: hello ${principal.name}\n`);
    this.events.emit('start', principal.name);
    for await (const chunk of input) {
      if (!output.write(chunk as Buffer)) await Promise.race([once(output, 'drain'), once(signal, 'abort')]);
    }
    if (signal.aborted) return 1;
    // Output after stdin's EOF still reaches the client (Nix half-closes; replies may follow).
    if (principal.name === 'late') output.write('|after-eof');
    return principal.name === 'three' ? 3 : 0;
  }
}

interface Key {
  readonly path: string;
  readonly publicLine: string;
  readonly fingerprint: string;
}

async function makeKey(dir: string, name: string): Promise<Key> {
  const path = join(dir, name);
  await run('ssh-keygen', ['-q', '-t', 'ed25519', '-N', '', '-C', `${name}@test`, '-f', path]);
  const publicLine = (await readFile(`${path}.pub`, 'utf8')).trim();
  const { stdout } = await run('ssh-keygen', ['-l', '-f', `${path}.pub`]);
  return { path, publicLine, fingerprint: stdout.split(' ')[1]! };
}

interface SshResult {
  readonly code: number | null;
  readonly stdout: Buffer;
  readonly stderr: string;
}

let dir: TempDir;
let door: EchoDoor;
let gateway: RunningSshGateway;
let logLines: string[];
let authorizedKeys: string;
const keys: Record<string, Key> = {};
const children = new Set<ChildProcess>();

function sshArgs(key: Key, port: string, extra: readonly string[]): string[] {
  return [
    '-F', '/dev/null',
    '-o', 'StrictHostKeyChecking=no', '-o', 'UserKnownHostsFile=/dev/null', '-o', 'BatchMode=yes', '-o', 'IdentitiesOnly=yes',
    '-o', 'LogLevel=ERROR', '-o', 'ConnectTimeout=20',
    '-i', key.path, '-p', port, ...extra,
  ];
}

function portOf(g: RunningSshGateway): string {
  return g.address.slice(g.address.lastIndexOf(':') + 1);
}

/** Starts ssh; the caller writes stdin. */
function startSsh(key: Key, command: readonly string[], extra: readonly string[] = [], g = gateway): { child: ChildProcess; done: Promise<SshResult> } {
  const child = spawn('/usr/bin/ssh', [...sshArgs(key, portOf(g), extra), 'farm@127.0.0.1', ...command], { stdio: ['pipe', 'pipe', 'pipe'] });
  children.add(child);
  const out: Buffer[] = [];
  let err = '';
  child.stdout!.on('data', (d: Buffer) => out.push(d));
  child.stderr!.on('data', (d: Buffer) => (err += d.toString()));
  child.stdin!.on('error', () => {});
  const done = new Promise<SshResult>((resolve) =>
    child.once('close', (code) => {
      children.delete(child);
      resolve({ code, stdout: Buffer.concat(out), stderr: err });
    }),
  );
  return { child, done };
}

function ssh(key: Key, command: readonly string[], input: string | Buffer = '', extra: readonly string[] = []): Promise<SshResult> {
  const { child, done } = startSsh(key, command, extra);
  child.stdin!.end(input);
  return done;
}

/** Resolves when the child's stdout has printed `text`. */
function printed(child: ChildProcess, text: string): Promise<void> {
  return new Promise((resolve) => {
    let seen = '';
    const on = (d: Buffer) => {
      seen += d.toString();
      if (seen.includes(text)) {
        child.stdout!.off('data', on);
        resolve();
      }
    };
    child.stdout!.on('data', on);
  });
}

/** Polls `ok` (a log line written when the server notices the client's close); the test's timeout bounds it. */
async function waitFor(ok: () => boolean): Promise<void> {
  while (!ok()) await new Promise((r) => setTimeout(r, 20));
}

function captureLogger(lines: string[]): Logger {
  return createLogger({ name: 'ssh-test', level: 'debug' }, { write: (s: string) => void lines.push(s) });
}

function logged(msg: string): Array<Record<string, unknown>> {
  return logLines.map((l) => JSON.parse(l) as Record<string, unknown>).filter((l) => l['msg'] === msg);
}

before(async () => {
  dir = await makeTempDir('farm-ssh-');
  for (const name of ['alice', 'bob', 'carol', 'three', 'forced', 'dave', 'mallory', 'restricted', 'late', 'nix']) keys[name] = await makeKey(dir.path, name);
  const k = (n: string) => keys[n]!.publicLine;
  authorizedKeys = join(dir.path, 'authorized_keys');
  await writeFile(
    authorizedKeys,
    [
      '# farm users',
      k('alice'),
      k('bob'),
      `farm-name="carol",farm-systems="x86_64-linux,aarch64-linux" ${k('carol')}`,
      `farm-name=three ${k('three')}`,
      `command="nix-store --serve --write" ${k('forced')}`,
      `from="10.0.0.1" ${k('dave')}`,
      `restrict ${k('restricted')}`,
      `farm-name=late ${k('late')}`,
      k('nix'),
      '',
    ].join('\n'),
  );
  door = new EchoDoor();
  logLines = [];
  gateway = await startSshGateway(
    { door, logger: captureLogger(logLines) },
    {
      listen: '127.0.0.1:0',
      hostKeyFile: join(dir.path, 'host', 'ssh_host_ed25519_key'),
      authorizedKeysFile: authorizedKeys,
      keys: { carol: { systems: ['i686-linux'], maxBuilds: 4 }, [keys['bob']!.fingerprint]: { maxBuilds: 2 } },
    },
  );
});

after(async () => {
  for (const c of children) c.kill('SIGKILL');
  await gateway?.close();
  await dir?.remove();
});

test('bytes both ways: header, stderr line, 1 MiB echoed; stdin EOF ends the session with status 0', T, async () => {
  const payload = randomBytes(1024 * 1024);
  const r = await ssh(keys['alice']!, ['nix-daemon', '--stdio'], payload);
  assert.equal(r.code, 0, r.stderr);
  const header = 'worker alice@test - -\n';
  assert.equal(r.stdout.subarray(0, header.length).toString(), header);
  assert.equal(r.stdout.subarray(header.length).equals(payload), true);
  assert.match(r.stderr, /door: hello alice@test/);
  const auth = logged('ssh connection authenticated').at(-1)!;
  assert.equal(auth['principal'], 'alice@test');
  assert.equal(auth['fingerprint'], keys['alice']!.fingerprint);
  assert.match(String(auth['remote']), /^127\.0\.0\.1:\d+$/);
  const end = logged('door session ended').at(-1)!;
  assert.equal(end['mode'], 'worker');
  assert.equal(end['status'], 0);
  assert.equal(typeof end['durationMs'], 'number');
});

test('output written after the client ended stdin still arrives, before the exit status', T, async () => {
  const r = await ssh(keys['late']!, ['nix-daemon', '--stdio'], 'in');
  assert.equal(r.code, 0, r.stderr);
  assert.equal(r.stdout.toString(), 'worker late - -\nin|after-eof');
});

test('the commands Nix sends map to their modes (full paths, --, farm nix-stdio)', T, async () => {
  const cases: Array<[string[], NixSessionMode]> = [
    [['nix-store', '--serve', '--write'], 'serve-write'],
    [['nix-store', '--serve'], 'serve'],
    [['/nix/var/nix/profiles/default/bin/nix-store', '--serve', '--write'], 'serve-write'],
    [['/run/current-system/sw/bin/nix-daemon', '--stdio'], 'worker'],
    [['nix-daemon', '--', '--stdio'], 'worker'],
    [['farm', 'nix-stdio', '--stdio'], 'worker'],
    [['farm', 'nix-stdio', '--serve', '--write'], 'serve-write'],
  ];
  for (const [command, mode] of cases) {
    const r = await ssh(keys['alice']!, command, 'x');
    assert.equal(r.code, 0, `${command.join(' ')}: ${r.stderr}`);
    assert.equal(r.stdout.toString(), `${mode} alice@test - -\nx`, command.join(' '));
  }
});

test('an unknown command: one line on stderr naming it and what is offered, status 127, no door session', T, async () => {
  const before = door.calls.length;
  const r = await ssh(keys['alice']!, ['ls', '-la', '/']);
  assert.equal(r.code, 127);
  assert.equal(r.stdout.length, 0);
  assert.match(r.stderr, /^farm: unknown command 'ls -la \/': .*nix-store --serve \[--write\].*nix-daemon --stdio/);
  assert.equal(r.stderr.trim().split('\n').length, 1);
  assert.equal(door.calls.length, before);
});

test('a shell is refused with what to use instead, status 1', T, async () => {
  const r = await ssh(keys['alice']!, [], '', ['-T']);
  assert.equal(r.code, 1);
  assert.match(r.stderr, /^farm: interactive shells are not offered; .*ssh-ng:\/\//);
});

test('pty and env requests are accepted and ignored; restrict refuses the pty (as sshd does) but needs none', T, async () => {
  const a = await ssh(keys['alice']!, ['nix-daemon', '--stdio'], 'x', ['-tt', '-o', 'SetEnv=FOO=bar']);
  assert.equal(a.code, 0, a.stderr);
  assert.match(a.stdout.toString(), /^worker alice@test - -\r?\n/);
  // ssh -tt treats a refused pty as fatal.
  const r = await ssh(keys['restricted']!, ['nix-daemon', '--stdio'], 'y', ['-tt']);
  assert.equal(r.code, 255);
  assert.match(r.stderr, /PTY allocation request failed/);
  const n = await ssh(keys['restricted']!, ['nix-daemon', '--stdio'], 'y', ['-o', 'SetEnv=FOO=bar']);
  assert.equal(n.code, 0, n.stderr);
  assert.equal(n.stdout.toString(), 'worker restricted@test - -\ny');
});

test('an unknown key, and a line with an option the door does not understand, are refused', T, async () => {
  const m = await ssh(keys['mallory']!, ['nix-daemon', '--stdio']);
  assert.equal(m.code, 255);
  assert.match(m.stderr, /Permission denied \(publickey\)/);
  await waitFor(() => logged('ssh client disconnected without authenticating').some((l) => (l['refusedKeys'] as string[]).includes(keys['mallory']!.fingerprint)));
  const d = await ssh(keys['dave']!, ['nix-daemon', '--stdio']);
  assert.equal(d.code, 255);
  assert.match(d.stderr, /Permission denied/);
  const warned = logLines.some((l) => l.includes(`${authorizedKeys}:7: unknown option 'from'`));
  assert.ok(warned, 'the skipped line is logged with file and line');
});

test('password and keyboard-interactive are refused', T, async () => {
  for (const method of ['password', 'keyboard-interactive'] as const) {
    const client = new ssh2.Client();
    const failed = new Promise<Error & { level?: string }>((resolve) => client.once('error', resolve));
    let prompted = false;
    client.on('keyboard-interactive', (_name, _instructions, _lang, _prompts, finish) => {
      prompted = true;
      finish(['secret']);
    });
    client.connect({
      host: '127.0.0.1',
      port: Number(portOf(gateway)),
      username: 'alice',
      ...(method === 'password' ? { password: 'secret' } : { tryKeyboard: true }),
    });
    const e = await failed;
    client.end();
    assert.equal(e.level, 'client-authentication', `${method}: ${e.message}`);
    assert.equal(prompted, false, 'the server never starts a keyboard-interactive exchange');
  }
});

/** Offers alice's public key but signs with mallory's private key: what a thief of a public key can do. */
class ForgingAgent extends ssh2.BaseAgent<ParsedKey> {
  constructor(
    private readonly offered: ParsedKey,
    private readonly signer: ParsedKey,
  ) {
    super();
  }
  getIdentities(cb: (err: Error | undefined, keys?: ParsedKey[]) => void): void {
    cb(undefined, [this.offered]);
  }
  sign(_key: ParsedKey, data: Buffer, optionsOrCb: unknown, cb?: (err: Error | undefined, signature?: Buffer) => void): void {
    const done = typeof optionsOrCb === 'function' ? (optionsOrCb as typeof cb)! : cb!;
    done(undefined, this.signer.sign(data));
  }
}

function parsed(text: string | Buffer): ParsedKey {
  const k = ssh2.utils.parseKey(text);
  assert.ok(!(k instanceof Error));
  return Array.isArray(k) ? (k[0] as ParsedKey) : k;
}

test('a listed public key with a signature from another key is refused', T, async () => {
  const offered = parsed(keys['alice']!.publicLine);
  const signer = parsed(await readFile(keys['mallory']!.path));
  const client = new ssh2.Client();
  const outcome = new Promise<string>((resolve) => {
    client.once('error', (e: Error & { level?: string }) => resolve(String(e.level)));
    client.once('ready', () => resolve('ready'));
  });
  client.connect({ host: '127.0.0.1', port: Number(portOf(gateway)), username: 'alice', agent: new ForgingAgent(offered, signer) });
  assert.equal(await outcome, 'client-authentication');
  client.end();
  assert.ok(logLines.some((l) => l.includes('signature does not verify')));
});

test('sftp and port forwarding are refused', T, async () => {
  const sftp = await ssh(keys['alice']!, ['sftp'], '', ['-s']);
  assert.equal(sftp.code, 255);
  assert.match(sftp.stderr, /subsystem request failed/);
  const forward = await ssh(keys['alice']!, [], '', ['-N', '-o', 'ExitOnForwardFailure=yes', '-R', '0:127.0.0.1:9']);
  assert.equal(forward.code, 255);
  assert.match(forward.stderr, /remote port forwarding failed/);
});

test('a forced command= wins over what the client asked', T, async () => {
  const r = await ssh(keys['forced']!, ['nix-daemon', '--stdio'], 'z');
  assert.equal(r.code, 0, r.stderr);
  assert.equal(r.stdout.toString(), 'serve-write forced@test - -\nz');
  const r2 = await ssh(keys['forced']!, ['rm', '-rf', '/'], '');
  assert.equal(r2.code, 0, r2.stderr);
});

test('farm-* options and the config keys reach the principal; the door status is the exit status', T, async () => {
  const c = await ssh(keys['carol']!, ['nix-daemon', '--stdio']);
  assert.equal(c.stdout.toString(), 'worker carol x86_64-linux,aarch64-linux 4\n');
  const b = await ssh(keys['bob']!, ['nix-store', '--serve']);
  assert.equal(b.stdout.toString(), 'serve bob@test - 2\n');
  const t = await ssh(keys['three']!, ['nix-daemon', '--stdio']);
  assert.equal(t.code, 3);
  assert.equal(logged('door session ended').at(-1)!['status'], 3);
});

test('authorized_keys edited while running takes effect at the next login', T, async () => {
  const original = await readFile(authorizedKeys, 'utf8');
  try {
    await appendFile(authorizedKeys, `farm-name=mallory-now ${keys['mallory']!.publicLine}\n`);
    const m = await ssh(keys['mallory']!, ['nix-daemon', '--stdio']);
    assert.equal(m.code, 0, m.stderr);
    assert.equal(m.stdout.toString(), 'worker mallory-now - -\n');
    await writeFile(authorizedKeys, original.replace(keys['alice']!.publicLine, '# alice removed'));
    const a = await ssh(keys['alice']!, ['nix-daemon', '--stdio']);
    assert.equal(a.code, 255);
    assert.match(a.stderr, /Permission denied/);
  } finally {
    await writeFile(authorizedKeys, original);
  }
  const a = await ssh(keys['alice']!, ['nix-daemon', '--stdio']);
  assert.equal(a.code, 0, a.stderr);
});

test('ControlMaster: two sessions at once over one master connection, each its own door session', T, async () => {
  const control = ['-o', 'ControlMaster=auto', '-o', `ControlPath=${join(dir.path, 'cm-%C')}`, '-o', 'ControlPersist=60'];
  const authsBefore = logged('ssh connection authenticated').length;
  const first = startSsh(keys['bob']!, ['nix-daemon', '--stdio'], control);
  try {
    await printed(first.child, 'worker bob@test');
    const second = startSsh(keys['bob']!, ['nix-store', '--serve', '--write'], control);
    await printed(second.child, 'serve-write bob@test');
    second.child.stdin!.end('two');
    first.child.stdin!.end('one');
    const [r1, r2] = await Promise.all([first.done, second.done]);
    assert.equal(r1.code, 0, r1.stderr);
    assert.equal(r2.code, 0, r2.stderr);
    assert.equal(r1.stdout.toString(), 'worker bob@test - 2\none');
    assert.equal(r2.stdout.toString(), 'serve-write bob@test - 2\ntwo');
    const check = await run('/usr/bin/ssh', [...sshArgs(keys['bob']!, portOf(gateway), control), '-O', 'check', 'farm@127.0.0.1']).catch((e: { stderr: string }) => e);
    assert.match(String(check.stderr), /Master running/);
    assert.equal(logged('ssh connection authenticated').length - authsBefore, 1, 'one authenticated connection for both sessions');
  } finally {
    await run('/usr/bin/ssh', [...sshArgs(keys['bob']!, portOf(gateway), control), '-O', 'exit', 'farm@127.0.0.1']).catch(() => undefined);
  }
});

test('a client killed mid-session aborts its door session', T, async () => {
  const s = startSsh(keys['carol']!, ['nix-daemon', '--stdio']);
  await printed(s.child, 'worker carol');
  const aborted = new Promise<string>((resolve) => door.events.once('abort', resolve));
  s.child.kill('SIGKILL');
  assert.equal(await aborted, 'carol');
  await s.done;
});

test('the host key is created once (mode 0600) and reused; close() aborts open sessions', T, async () => {
  const hostKeyFile = join(dir.path, 'second', 'host_key');
  const lines: string[] = [];
  const g1 = await startSshGateway({ door, logger: captureLogger(lines) }, { listen: '127.0.0.1:0', hostKeyFile, authorizedKeysFile: authorizedKeys });
  let g2: RunningSshGateway | undefined;
  try {
    assert.match(g1.hostKey, /^ssh-ed25519 AAAA[A-Za-z0-9+/]+=* farm$/);
    assert.equal((await stat(hostKeyFile)).mode & 0o777, 0o600);
    // The client checks the gateway against exactly that key.
    const knownHosts = join(dir.path, 'known_hosts');
    await writeFile(knownHosts, `[127.0.0.1]:${portOf(g1)} ${g1.hostKey}\n`);
    const strict = ['-o', 'StrictHostKeyChecking=yes', '-o', `UserKnownHostsFile=${knownHosts}`];
    const { child, done } = startSsh(keys['alice']!, ['nix-daemon', '--stdio'], strict, g1);
    await printed(child, 'worker alice@test');
    const aborted = new Promise<string>((resolve) => door.events.once('abort', resolve));
    await g1.close();
    assert.equal(await aborted, 'alice@test');
    const r = await done;
    assert.notEqual(r.code, 0);

    const keyText = await readFile(hostKeyFile, 'utf8');
    g2 = await startSshGateway({ door, logger: captureLogger(lines) }, { listen: '127.0.0.1:0', hostKeyFile, authorizedKeysFile: authorizedKeys });
    assert.equal(g2.hostKey, g1.hostKey);
    assert.equal(await readFile(hostKeyFile, 'utf8'), keyText);
    await writeFile(knownHosts, `[127.0.0.1]:${portOf(g2)} ${g2.hostKey}\n`);
    const s2 = startSsh(keys['alice']!, ['nix-daemon', '--stdio'], strict, g2);
    s2.child.stdin!.end('again');
    const r2 = await s2.done;
    assert.equal(r2.code, 0, r2.stderr);
    assert.equal(r2.stdout.toString(), 'worker alice@test - -\nagain');
  } finally {
    await g1.close();
    await g2?.close();
  }
});

test('real Nix through the gateway and the farm door: nix copy --to ssh-ng:// and ssh://, nix path-info --store', T, async () => {
  await withStore(async (store) => {
    const quiet = createLogger({ name: 'ssh-test', level: 'silent' });
    const nixDoor = createNixDoor({ store, builds: {} as never, logger: quiet, maxUploadBytes: 1 << 24, version: '2.8.0' });
    const g = await startSshGateway({ door: nixDoor, logger: quiet }, { listen: '127.0.0.1:0', hostKeyFile: join(dir.path, 'nix-host-key'), authorizedKeysFile: authorizedKeys });
    try {
      const env = {
        ...process.env,
        NIX_SSHOPTS: sshArgs(keys['nix']!, portOf(g), []).join(' '),
        NIX_CONFIG: 'experimental-features = nix-command',
      };
      const file = join(dir.path, 'door-file.txt');
      await writeFile(file, `through the ssh door ${randomBytes(8).toString('hex')}\n`);
      const path = (await run('nix-store', ['--add', file], { env })).stdout.trim();
      assert.equal(await store.isValidPath(path), false);
      await run('nix', ['copy', '--to', 'ssh-ng://farm@127.0.0.1', path], { env });
      assert.equal(await store.isValidPath(path), true);
      for (const url of ['ssh-ng://farm@127.0.0.1', 'ssh://farm@127.0.0.1']) {
        const { stdout } = await run('nix', ['path-info', '--store', url, path], { env });
        assert.equal(stdout.trim(), path, url);
      }
    } finally {
      await g.close();
    }
  });
});
