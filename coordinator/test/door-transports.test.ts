/**
 * The door's two local transports carry a session's bytes both ways and its exit status:
 * the gRPC NixSession stream (farm nix-stdio) and the unix socket (farm-nix-stdio), including
 * output written after the client's stdin ended, and a bad session header.
 */
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { connect } from 'node:net';
import { join } from 'node:path';
import { createLogger, type Logger } from '@farm/common';
import { createCoordinatorClient, type NixSessionOutput__Output } from '@farm/proto';
import { makeTempDir, type TempDir } from '@farm/testkit';
import { startGrpcServer, type RunningGrpcServer } from '../src/adapters/grpc/server.js';
import type { NixDoor } from '../src/adapters/nix-door/session-api.js';
import { DOOR_FRAME, startSocketDoor, type RunningSocketDoor } from '../src/adapters/nix-door/socket-door.js';
import type { FarmService } from '../src/service/farm-service.js';
import type { FarmStore } from '../src/ports/farm-store.js';
import type { LogSource } from '../src/ports/log-source.js';

/** Says who it serves, echoes stdin, writes once more after stdin ended, exits 3. */
const echoDoor: NixDoor = {
  async run(mode, principal, io) {
    io.log.write(`session ${mode} for ${principal.name}\n`);
    for await (const chunk of io.input) io.output.write(chunk);
    io.output.write(Buffer.from('|after-eof'));
    return 3;
  },
};

const logger: Logger = createLogger({ name: 'test', level: 'silent' });
let dir: TempDir;
let grpc: RunningGrpcServer;
let socketDoor: RunningSocketDoor;

before(async () => {
  dir = await makeTempDir('farm-door-transport-');
  const none = {} as never;
  grpc = await startGrpcServer({ service: none as FarmService, store: none as FarmStore, logs: none as LogSource, logger, door: echoDoor }, '127.0.0.1:0');
  socketDoor = await startSocketDoor(echoDoor, join(dir.path, 'door.sock'), logger);
});

after(async () => {
  await grpc?.close();
  await socketDoor?.close();
  await dir?.remove();
});

test('NixSession over gRPC: open, stdin, half-close; stdout, stderr and the exit status come back', async () => {
  const client = createCoordinatorClient(grpc.address);
  try {
    const call = client.nixSession();
    const got = { stdout: '', stderr: '', status: -1 };
    const done = new Promise<void>((resolve, reject) => {
      call.on('data', (m: NixSessionOutput__Output) => {
        if (m.kind === 'stdout') got.stdout += m.stdout?.toString() ?? '';
        if (m.kind === 'stderr') got.stderr += m.stderr?.toString() ?? '';
        if (m.kind === 'exitStatus') got.status = m.exitStatus ?? -1;
      });
      call.on('end', resolve);
      call.on('error', reject);
    });
    call.write({ open: { mode: 'worker', client: 'alice@test' } });
    call.write({ stdin: Buffer.from('hello ') });
    call.write({ stdin: Buffer.from('door') });
    call.end();
    await done;
    assert.deepEqual(got, { stdout: 'hello door|after-eof', stderr: 'session worker for alice@test\n', status: 3 });
  } finally {
    client.close();
  }
});

test('NixSession refuses a stream that does not start with open, and an unknown mode', async () => {
  const client = createCoordinatorClient(grpc.address);
  try {
    for (const first of [{ stdin: Buffer.from('x') }, { open: { mode: 'shell', client: '' } }]) {
      const call = client.nixSession();
      const err = await new Promise<Error>((resolve) => {
        call.on('data', () => undefined);
        call.on('error', resolve);
        call.write(first);
        call.end();
      });
      assert.match(err.message, /INVALID_ARGUMENT|must start with an open|unknown NixSession mode/);
    }
  } finally {
    client.close();
  }
});

function socketSession(header: string, input: string): Promise<{ stdout: string; stderr: string; status: number }> {
  return new Promise((resolve, reject) => {
    const s = connect(socketDoor.path);
    let buf = Buffer.alloc(0);
    const got = { stdout: '', stderr: '', status: -1 };
    s.on('connect', () => {
      s.write(header);
      s.end(input);
    });
    s.on('data', (c: Buffer) => {
      buf = Buffer.concat([buf, c]);
      while (buf.length >= 5 && buf.length >= 5 + buf.readUInt32BE(1)) {
        const kind = buf.readUInt8(0);
        const payload = buf.subarray(5, 5 + buf.readUInt32BE(1));
        buf = buf.subarray(5 + payload.length);
        if (kind === DOOR_FRAME.stdout) got.stdout += payload.toString();
        if (kind === DOOR_FRAME.stderr) got.stderr += payload.toString();
        if (kind === DOOR_FRAME.exit) got.status = payload.readInt32BE(0);
      }
    });
    s.on('close', () => resolve(got));
    s.on('error', reject);
  });
}

test('the door socket: header line, stdin, half-close; framed stdout, stderr and exit status', async () => {
  const got = await socketSession('{"mode":"serve-write","client":"bob@test"}\n', 'abc');
  assert.deepEqual(got, { stdout: 'abc|after-eof', stderr: 'session serve-write for bob@test\n', status: 3 });
});

test('the door socket refuses a bad header with a message and status 1', async () => {
  for (const [header, expected] of [
    ['{"mode":"shell"}\n', /unknown session mode "shell"/],
    ['not json\n', /not JSON/],
    ['', /closed before sending a session header/],
  ] as const) {
    const got = await socketSession(header, '');
    assert.equal(got.status, 1);
    assert.match(got.stderr, expected);
  }
});
