#!/usr/bin/env node
/**
 * `farm-nix-stdio`: the remote-program for `ssh://` and `ssh-ng://` builders. Nix starts one per
 * derivation, so this relay imports nothing but node: modules and starts in tens of milliseconds:
 * it connects to the farm's local door socket (FARM_DOOR_SOCKET, else `door` in the address.json
 * of `farm up`), sends the session header, relays stdin to it and its frames to stdout/stderr,
 * and exits with the session's status. Without a local socket (a farm on another machine) it runs
 * `farm nix-stdio`, which speaks the same session over gRPC.
 *
 * Arguments are those Nix passes: `--serve --write` or `--stdio` (plus `--store <default>`).
 */
import module from 'node:module';
import { readFileSync } from 'node:fs';
import { connect } from 'node:net';
import { hostname, userInfo } from 'node:os';
import { join } from 'node:path';
import { defaultStateDir } from './client/state-dir.js';

const args = process.argv.slice(2);

function socketPath(): string | undefined {
  const explicit = process.env['FARM_DOOR_SOCKET'];
  if (explicit !== undefined && explicit !== '') return explicit;
  if (process.env['FARM_COORDINATOR'] !== undefined && process.env['FARM_COORDINATOR'] !== '') return undefined;
  try {
    const file = JSON.parse(readFileSync(join(defaultStateDir(), 'address.json'), 'utf8')) as { door?: unknown };
    return typeof file.door === 'string' && file.door !== '' ? file.door : undefined;
  } catch {
    return undefined;
  }
}

function modeOf(argv: readonly string[]): string | undefined {
  const serve = argv.includes('--serve');
  const stdio = argv.includes('--stdio');
  if (serve === stdio) return undefined;
  return stdio ? 'worker' : argv.includes('--write') ? 'serve-write' : 'serve';
}

function user(): string {
  try {
    return `${process.env['USER'] ?? userInfo().username}@${hostname()}`;
  } catch {
    return `unknown@${hostname()}`;
  }
}

async function viaCli(): Promise<void> {
  module.enableCompileCache?.();
  process.argv = [process.argv[0]!, process.argv[1]!, 'nix-stdio', ...args];
  await import('./run-cli.js');
}

function relay(path: string, mode: string): void {
  const socket = connect(path);
  let pending: Buffer = Buffer.alloc(0);
  let status = 1;
  socket.on('connect', () => {
    socket.write(`${JSON.stringify({ mode, client: user() })}\n`);
    process.stdin.pipe(socket);
  });
  socket.on('data', (chunk: Buffer) => {
    pending = pending.length === 0 ? chunk : Buffer.concat([pending, chunk]);
    while (pending.length >= 5) {
      const kind = pending.readUInt8(0);
      const len = pending.readUInt32BE(1);
      if (pending.length < 5 + len) break;
      const payload = pending.subarray(5, 5 + len);
      pending = pending.subarray(5 + len);
      if (kind === 1) {
        if (!process.stdout.write(payload)) {
          socket.pause();
          process.stdout.once('drain', () => socket.resume());
        }
      } else if (kind === 2) process.stderr.write(payload);
      else if (kind === 3) status = payload.readInt32BE(0);
    }
  });
  socket.on('error', (e) => {
    process.stderr.write(`farm-nix-stdio: cannot reach the farm's door at ${path}: ${e.message}\n`);
    process.exit(1);
  });
  socket.on('close', () => {
    process.stdout.write('', () => process.exit(status));
  });
}

const mode = modeOf(args);
const path = socketPath();
if (mode === undefined || path === undefined) await viaCli();
else relay(path, mode);
