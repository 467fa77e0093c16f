/**
 * The Nix door on a local socket: what `farm-nix-stdio` (the remote-program of `ssh://` and
 * `ssh-ng://` builders) connects to. A Nix client starts one remote-program per derivation, so
 * the relay must start fast; a unix socket and this framing need nothing but `node:net` on the
 * relay's side (gRPC alone costs ~100 ms of start-up per process on these machines).
 *
 * Protocol: the client sends one header line, `{"mode":"worker"|"serve"|"serve-write","client":"user@host"}\n`,
 * then its stdin bytes; ending its writing side is stdin's EOF. The server answers with frames:
 * `u8 kind` (1 stdout, 2 stderr, 3 exit), `u32be length`, payload (exit: `i32be` status), and
 * closes after the exit frame. The socket file is made 0600: as with the gRPC port on loopback,
 * who can reach it is who may build.
 */
import { chmod, mkdir, rm } from 'node:fs/promises';
import { createServer, type Server, type Socket } from 'node:net';
import { dirname } from 'node:path';
import { PassThrough, Writable } from 'node:stream';
import type { Logger } from '@farm/common';
import { NIX_SESSION_MODES, type NixDoor, type NixSessionMode } from './session-api.js';

export const DOOR_FRAME = { stdout: 1, stderr: 2, exit: 3 } as const;
const MAX_HEADER = 4096;

export interface RunningSocketDoor {
  readonly path: string;
  close(): Promise<void>;
}

function frame(kind: number, payload: Uint8Array): Buffer {
  const head = Buffer.alloc(5);
  head.writeUInt8(kind, 0);
  head.writeUInt32BE(payload.length, 1);
  return Buffer.concat([head, payload]);
}

function framedSink(socket: Socket, kind: number): Writable {
  return new Writable({
    write(chunk: Buffer, _enc, done) {
      if (socket.destroyed) return done();
      if (socket.write(frame(kind, chunk))) done();
      else socket.once('drain', () => done());
    },
  });
}

export async function startSocketDoor(door: NixDoor, path: string, logger: Logger): Promise<RunningSocketDoor> {
  await mkdir(dirname(path), { recursive: true });
  await rm(path, { force: true }); // a socket file left by a previous run
  const sessions = new Set<AbortController>();
  // allowHalfOpen: the client ends its side when its stdin ends; our answers and the exit frame still follow.
  const server: Server = createServer({ allowHalfOpen: true }, (socket) => {
    const ac = new AbortController();
    sessions.add(ac);
    socket.on('error', (e) => logger.debug({ err: e }, 'door socket client error'));
    socket.on('close', () => {
      ac.abort();
      sessions.delete(ac);
    });
    void serveSocket(door, socket, ac.signal, logger);
  });
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(path, () => resolve());
  });
  await chmod(path, 0o600);
  logger.info({ path }, 'Nix door listening on a local socket');
  return {
    path,
    close: async () => {
      for (const s of sessions) s.abort();
      await new Promise<void>((resolve) => server.close(() => resolve()));
      await rm(path, { force: true });
    },
  };
}

async function serveSocket(door: NixDoor, socket: Socket, signal: AbortSignal, logger: Logger): Promise<void> {
  const input = new PassThrough();
  let header: Buffer | undefined = Buffer.alloc(0);
  let opened: ((h: { mode: NixSessionMode; client: string } | string) => void) | undefined;
  const headerReady = new Promise<{ mode: NixSessionMode; client: string } | string>((resolve) => (opened = resolve));
  socket.on('data', (chunk: Buffer) => {
    if (header === undefined) {
      if (!input.write(chunk)) {
        socket.pause();
        input.once('drain', () => socket.resume());
      }
      return;
    }
    header = Buffer.concat([header, chunk]);
    const nl = header.indexOf(10);
    if (nl < 0) {
      if (header.length > MAX_HEADER) opened?.('the session header is longer than 4096 bytes');
      return;
    }
    const line = header.subarray(0, nl).toString('utf8');
    const rest = header.subarray(nl + 1);
    header = undefined;
    if (rest.length > 0) input.write(rest);
    try {
      const h = JSON.parse(line) as { mode?: unknown; client?: unknown };
      if (typeof h.mode !== 'string' || !NIX_SESSION_MODES.includes(h.mode as NixSessionMode)) opened?.(`unknown session mode ${JSON.stringify(h.mode)} (expected ${NIX_SESSION_MODES.join(', ')})`);
      else opened?.({ mode: h.mode as NixSessionMode, client: typeof h.client === 'string' && h.client !== '' ? h.client.slice(0, 256) : 'local' });
    } catch {
      opened?.('the session header is not JSON');
    }
  });
  socket.on('end', () => {
    input.end();
    if (header !== undefined) opened?.('the client closed before sending a session header');
  });
  socket.on('close', () => input.end());
  const h = await headerReady;
  let status = 1;
  if (typeof h === 'string') {
    socket.write(frame(DOOR_FRAME.stderr, Buffer.from(`farm: error: ${h}\n`)));
  } else {
    const output = framedSink(socket, DOOR_FRAME.stdout);
    const log = framedSink(socket, DOOR_FRAME.stderr);
    status = await door.run(h.mode, { name: h.client }, { input, output, log, signal });
    await Promise.all([new Promise<void>((r) => output.end(r)), new Promise<void>((r) => log.end(r))]);
  }
  if (socket.destroyed) return;
  const code = Buffer.alloc(4);
  code.writeInt32BE(status, 0);
  socket.end(frame(DOOR_FRAME.exit, code));
  logger.debug({ status }, 'door socket session ended');
}
