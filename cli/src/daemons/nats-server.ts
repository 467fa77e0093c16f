/**
 * Runs the embedded default's `nats-server` (JetStream on, its store under the state dir) as a
 * child process: the farm uses the real server, never an imitation. Ready when it accepts TCP
 * connections; stopped with SIGTERM (its graceful shutdown flushes JetStream), SIGKILL after 10 s.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { createWriteStream, mkdirSync } from 'node:fs';
import { connect, createServer } from 'node:net';
import { join } from 'node:path';
import { FarmError } from '@farm/common';

export interface EmbeddedNats {
  readonly url: string;
  readonly port: number;
  stop(): Promise<void>;
}

export async function startEmbeddedNats(options: { stateDir: string; port: number; logFile: string; binary?: string }): Promise<EmbeddedNats> {
  const port = options.port === 0 ? await freeLoopbackPort() : options.port;
  const storeDir = join(options.stateDir, 'nats');
  mkdirSync(storeDir, { recursive: true });
  const log = createWriteStream(options.logFile, { flags: 'a' });
  const binary = options.binary ?? 'nats-server';
  const child = spawn(binary, ['-a', '127.0.0.1', '-p', String(port), '-js', '-sd', storeDir], { stdio: ['ignore', 'pipe', 'pipe'] });
  child.stdout.pipe(log, { end: false });
  child.stderr.pipe(log, { end: false });
  const exited = new Promise<number | null>((resolve) => child.once('exit', (code) => resolve(code)));
  const spawnError = new Promise<Error>((resolve) => child.once('error', resolve));
  const ready = waitForPort(port, 15_000);
  const first = await Promise.race([
    ready.then(() => 'ready' as const),
    exited.then((code) => new FarmError('UNAVAILABLE', `nats-server exited with code ${String(code)} before it was ready (see ${options.logFile})`)),
    spawnError.then((e) =>
      new FarmError('UNAVAILABLE', (e as NodeJS.ErrnoException).code === 'ENOENT' ? `${binary} not found on PATH (install the Debian package nats-server)` : `cannot start ${binary}: ${e.message}`),
    ),
  ]);
  if (first !== 'ready') {
    child.kill('SIGKILL');
    log.end();
    throw first;
  }
  return {
    url: `nats://127.0.0.1:${port}`,
    port,
    stop: async () => {
      await stopChild(child, exited, 10_000);
      log.end();
    },
  };
}

export async function stopChild(child: ChildProcess, exited: Promise<unknown>, graceMs: number): Promise<void> {
  if (child.exitCode !== null || child.signalCode !== null) return;
  child.kill('SIGTERM');
  const timer = setTimeout(() => child.kill('SIGKILL'), graceMs);
  await exited;
  clearTimeout(timer);
}

export function freeLoopbackPort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const address = server.address();
      const port = typeof address === 'object' && address !== null ? address.port : 0;
      server.close(() => resolve(port));
    });
  });
}

async function waitForPort(port: number, timeoutMs: number): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const ok = await new Promise<boolean>((resolve) => {
      const socket = connect({ host: '127.0.0.1', port }, () => {
        socket.destroy();
        resolve(true);
      });
      socket.once('error', () => resolve(false));
    });
    if (ok) return;
    if (Date.now() > deadline) throw new FarmError('UNAVAILABLE', `nats-server did not accept connections on port ${port} within ${timeoutMs} ms`);
    await new Promise((r) => setTimeout(r, 50));
  }
}
