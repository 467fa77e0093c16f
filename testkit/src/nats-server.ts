/**
 * Starts a real `nats-server` with JetStream on a free loopback port and a temp store dir
 * (as nats.js's own tests do). `stop()` ends it; `kill()` is SIGKILL for fault tests;
 * `restart()` brings it back on the same port and store so durability can be checked.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { connect } from 'node:net';
import { join } from 'node:path';
import { freePort } from './ports.js';
import { makeTempDir, type TempDir } from './temp-dir.js';

export interface NatsServer extends AsyncDisposable {
  readonly url: string;
  readonly port: number;
  readonly storeDir: string;
  readonly pid: number | undefined;
  kill(): Promise<void>;
  restart(): Promise<void>;
  stop(): Promise<void>;
}

export async function startNatsServer(options: { binary?: string; startTimeoutMs?: number } = {}): Promise<NatsServer> {
  const binary = options.binary ?? 'nats-server';
  const port = await freePort();
  const dir: TempDir = await makeTempDir('farm-nats-');
  const storeDir = join(dir.path, 'jetstream');
  let child: ChildProcess | undefined;

  const launch = async () => {
    const stderr: string[] = [];
    const proc = spawn(binary, ['-a', '127.0.0.1', '-p', String(port), '-js', '-sd', storeDir], { stdio: ['ignore', 'ignore', 'pipe'] });
    proc.stderr?.on('data', (d: Buffer) => stderr.push(d.toString()));
    const exited = new Promise<never>((_, reject) => {
      proc.once('error', (e) => reject(new Error(`cannot start ${binary}: ${e.message}`)));
      proc.once('exit', (code) => reject(new Error(`${binary} exited with ${code} before it was ready: ${stderr.join('').slice(-2000)}`)));
    });
    exited.catch(() => undefined);
    child = proc;
    await Promise.race([waitForInfo(port, options.startTimeoutMs ?? 10_000), exited]);
  };

  const stopChild = async (signal: NodeJS.Signals) => {
    const c = child;
    child = undefined;
    if (c === undefined || c.exitCode !== null || c.signalCode !== null) return;
    await new Promise<void>((resolve) => {
      c.once('exit', () => resolve());
      c.kill(signal);
    });
  };

  await launch();
  const stop = async () => {
    await stopChild('SIGTERM');
    await dir.remove();
  };
  return {
    url: `nats://127.0.0.1:${port}`,
    port,
    storeDir,
    get pid() {
      return child?.pid;
    },
    kill: () => stopChild('SIGKILL'),
    restart: async () => {
      await stopChild('SIGTERM');
      await launch();
    },
    stop,
    [Symbol.asyncDispose]: stop,
  };
}

/** Resolves once the server greets a TCP client with its INFO line. */
export async function waitForInfo(port: number, timeoutMs: number): Promise<string> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    try {
      return await readInfoLine(port);
    } catch (e) {
      if (Date.now() > deadline) throw new Error(`nats-server on port ${port} not ready after ${timeoutMs} ms: ${(e as Error).message}`);
      await new Promise((r) => setTimeout(r, 50));
    }
  }
}

export function readInfoLine(port: number): Promise<string> {
  return new Promise((resolve, reject) => {
    const sock = connect(port, '127.0.0.1');
    let buf = '';
    sock.setTimeout(2000, () => sock.destroy(new Error('timeout')));
    sock.on('data', (d) => {
      buf += d.toString();
      const nl = buf.indexOf('\r\n');
      if (nl >= 0) {
        sock.destroy();
        resolve(buf.slice(0, nl));
      }
    });
    sock.on('error', reject);
  });
}
