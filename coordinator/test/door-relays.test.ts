/**
 * The two farm-nix-stdio relays against the real door socket: the native one Nix normally starts
 * (cli/bin/farm-nix-stdio, built from cli/native/farm-nix-stdio.c) and the Node one it falls back
 * to (cli/bin/farm-nix-stdio-node). Both must find the socket the same ways, carry a session's
 * bytes both ways with its exit status, not deadlock when the client writes while not reading,
 * and fall back to `farm nix-stdio` (gRPC) when there is no local socket.
 */
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { createHash } from 'node:crypto';
import { existsSync } from 'node:fs';
import { mkdir, writeFile } from 'node:fs/promises';
import { hostname, userInfo } from 'node:os';
import { join } from 'node:path';
import { createLogger } from '@farm/common';
import { makeTempDir, REPO_ROOT, type TempDir } from '@farm/testkit';
import type { NixDoor } from '../src/adapters/nix-door/session-api.js';
import { startSocketDoor, type RunningSocketDoor } from '../src/adapters/nix-door/socket-door.js';

const NATIVE = join(REPO_ROOT, 'cli', 'bin', 'farm-nix-stdio');
const NODE = join(REPO_ROOT, 'cli', 'bin', 'farm-nix-stdio-node');
const RELAYS = [
  ['native', NATIVE],
  ['node', NODE],
] as const;
const BIG = 4 * 1024 * 1024;

/** A pattern no two MiB of which are alike, so a lost or doubled chunk changes the hash. */
function pattern(size: number, seed: number): Buffer {
  const b = Buffer.alloc(size);
  for (let i = 0; i < size; i += 4) b.writeUInt32LE((i * 2654435761 + seed) >>> 0, i);
  return b;
}

/** Says who it serves; `big` sessions first write 4 MiB without reading, then echo; exits 3. */
const door: NixDoor = {
  async run(mode, principal, io) {
    io.log.write(`session ${mode} for ${principal.name}\n`);
    if (principal.name.startsWith('big')) io.output.write(pattern(BIG, 7));
    for await (const chunk of io.input) io.output.write(chunk);
    io.output.write(Buffer.from('|after-eof'));
    return 3;
  },
};

let dir: TempDir;
let socketDoor: RunningSocketDoor;
let socketPath: string;
const me = `${process.env['USER'] ?? userInfo().username}@${hostname()}`;

interface Ran {
  readonly stdout: Buffer;
  readonly stderr: string;
  readonly status: number | null;
}

/** Runs a relay; with `holdStdout` it reads nothing until its whole stdin was taken. */
function run(program: string, args: readonly string[], env: Record<string, string>, input: Buffer, holdStdout = false): Promise<Ran> {
  return new Promise((resolve, reject) => {
    const base = { ...process.env };
    delete base['FARM_DOOR_SOCKET'];
    delete base['FARM_COORDINATOR'];
    delete base['FARM_STATE_DIR'];
    const child = spawn(program, args, { env: { ...base, ...env }, stdio: ['pipe', 'pipe', 'pipe'] });
    const out: Buffer[] = [];
    let err = '';
    child.stderr.on('data', (c: Buffer) => (err += c.toString()));
    if (holdStdout) child.stdout.pause();
    child.stdout.on('data', (c: Buffer) => out.push(c));
    child.stdin.on('error', () => undefined);
    child.stdin.end(input, () => child.stdout.resume());
    child.on('error', reject);
    child.on('close', (status) => resolve({ stdout: Buffer.concat(out), stderr: err, status }));
  });
}

before(async () => {
  assert.ok(existsSync(NATIVE), `${NATIVE} is missing: run scripts/build-native.sh (ensure-deps does)`);
  dir = await makeTempDir('farm-door-relays-');
  socketPath = join(dir.path, 'door.sock');
  socketDoor = await startSocketDoor(door, socketPath, createLogger({ name: 'test', level: 'silent' }));
});

after(async () => {
  await socketDoor?.close();
  await dir?.remove();
});

for (const [name, program] of RELAYS) {
  test(`${name} relay: FARM_DOOR_SOCKET, --serve --write: stdin out, stdout and stderr back, the session's exit status`, async () => {
    const got = await run(program, ['--serve', '--write'], { FARM_DOOR_SOCKET: socketPath }, Buffer.from('abc'));
    assert.equal(got.stdout.toString(), 'abc|after-eof');
    assert.equal(got.stderr, `session serve-write for ${me}\n`);
    assert.equal(got.status, 3);
  });

  test(`${name} relay: finds the socket through FARM_STATE_DIR's address.json; --stdio is the worker protocol`, async () => {
    const state = join(dir.path, `state-${name}`);
    await mkdir(state, { recursive: true });
    await writeFile(join(state, 'address.json'), `${JSON.stringify({ coordinator: '127.0.0.1:1', door: socketPath, pid: 1 }, null, 2)}\n`);
    const got = await run(program, ['--stdio', '--store', 'auto'], { FARM_STATE_DIR: state }, Buffer.from('x'));
    assert.equal(got.stdout.toString(), 'x|after-eof');
    assert.equal(got.stderr, `session worker for ${me}\n`);
    assert.equal(got.status, 3);
  });

  test(`${name} relay: 4 MiB each way while the client writes without reading: no deadlock, every byte in order`, { timeout: 60_000 }, async () => {
    const input = pattern(BIG, 11);
    const got = await run(program, ['--serve', '--write'], { FARM_DOOR_SOCKET: socketPath, USER: 'big' }, input, true);
    const expected = Buffer.concat([pattern(BIG, 7), input, Buffer.from('|after-eof')]);
    assert.equal(got.stdout.length, expected.length);
    assert.equal(createHash('sha256').update(got.stdout).digest('hex'), createHash('sha256').update(expected).digest('hex'));
    assert.equal(got.status, 3);
  });

  test(`${name} relay: a socket nobody listens on is exit 1 and a message naming it`, async () => {
    const missing = join(dir.path, 'nobody.sock');
    const got = await run(program, ['--serve'], { FARM_DOOR_SOCKET: missing }, Buffer.alloc(0));
    assert.equal(got.status, 1);
    assert.match(got.stderr, /farm-nix-stdio: cannot reach the farm's door at .*nobody\.sock/);
  });

  test(`${name} relay: without a local socket it runs farm nix-stdio, which goes over gRPC`, async () => {
    const got = await run(program, ['--serve', '--write'], { FARM_STATE_DIR: join(dir.path, 'empty-state'), FARM_COORDINATOR: '127.0.0.1:1' }, Buffer.alloc(0));
    assert.equal(got.status, 1);
    assert.match(got.stderr, /farm nix-stdio: .*127\.0\.0\.1:1/);
  });
}

test('native relay: arguments that are not Nix`s go to the CLI, which names the bad option', async () => {
  const got = await run(NATIVE, ['--bogus'], { FARM_DOOR_SOCKET: socketPath }, Buffer.alloc(0));
  assert.equal(got.status, 1);
  assert.match(got.stdout.toString() + got.stderr, /Unsupported option name \("--bogus"\)/);
});

test('native relay: an address.json it cannot read plainly (an escaped path) is left to the Node relay, which gets it right', async () => {
  const odd = join(dir.path, 'a "quoted" dir');
  await mkdir(odd, { recursive: true });
  const oddSocket = join(odd, 'd.sock');
  const second = await startSocketDoor(door, oddSocket, createLogger({ name: 'test', level: 'silent' }));
  try {
    const state = join(dir.path, 'state-escaped');
    await mkdir(state, { recursive: true });
    await writeFile(join(state, 'address.json'), JSON.stringify({ door: oddSocket }));
    const got = await run(NATIVE, ['--serve'], { FARM_STATE_DIR: state }, Buffer.from('q'));
    assert.equal(got.stdout.toString(), 'q|after-eof');
    assert.equal(got.status, 3);
  } finally {
    await second.close();
  }
});
