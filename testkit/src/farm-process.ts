/**
 * Launchers for the real `farm` binary (cli/bin/farm) as separate processes: `farm up` on a
 * temp state directory (the embedded default, exactly as users run it) and one-shot CLI
 * commands pointed at it. Tests see the farm only through its commands and its gRPC API.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { createInterface } from 'node:readline';
import { fileURLToPath } from 'node:url';

/** The repository's `farm` wrapper (runs the built CLI on the pinned Node 22). */
export const FARM_BIN: string = fileURLToPath(new URL('../../../cli/bin/farm', import.meta.url));
/** The repository root. */
export const REPO_ROOT: string = fileURLToPath(new URL('../../../', import.meta.url));

export interface FarmUp extends AsyncDisposable {
  readonly stateDir: string;
  readonly grpc: string;
  readonly nats: string;
  readonly agents: readonly string[];
  readonly process: ChildProcess;
  /** Everything `farm up` wrote to stderr so far. */
  stderr(): string;
  /** SIGINT (Ctrl-C); resolves with the exit code. */
  stop(): Promise<number | null>;
  /** SIGKILL, for crash tests (children are left to the caller's cleanup: see killTree). */
  kill(): Promise<void>;
}

export interface FarmUpOptions {
  readonly stateDir: string;
  /** Another checkout's `cli/bin/farm` (benchmarks against an older commit); default FARM_BIN. */
  readonly bin?: string;
  readonly args?: readonly string[];
  readonly env?: NodeJS.ProcessEnv;
  readonly readyTimeoutMs?: number;
}

export async function startFarmUp(options: FarmUpOptions): Promise<FarmUp> {
  const child = spawn(options.bin ?? FARM_BIN, ['up', '--json', '--state-dir', options.stateDir, ...(options.args ?? [])], {
    stdio: ['ignore', 'pipe', 'pipe'],
    env: { ...process.env, ...options.env },
    detached: true, // its own process group, so a test can kill the whole tree
  });
  let err = '';
  child.stderr?.on('data', (d: Buffer) => (err += d.toString()));
  const exited = new Promise<number | null>((resolve) => child.once('exit', (code) => resolve(code)));
  const lines = createInterface({ input: child.stdout! });
  const ready = new Promise<Record<string, unknown>>((resolve, reject) => {
    lines.on('line', (line) => {
      try {
        const msg = JSON.parse(line) as Record<string, unknown>;
        if (msg['event'] === 'ready') resolve(msg);
      } catch {
        // not ours
      }
    });
    void exited.then((code) => reject(new Error(`farm up exited with ${String(code)} before it was ready:\n${err}`)));
  });
  const timeoutMs = options.readyTimeoutMs ?? 90_000;
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new Error(`farm up was not ready within ${timeoutMs} ms:\n${err}`)), timeoutMs);
  });
  let info: Record<string, unknown>;
  try {
    info = await Promise.race([ready, timeout]);
  } catch (e) {
    killTree(child);
    throw e;
  } finally {
    clearTimeout(timer);
  }
  const stop = async (): Promise<number | null> => {
    if (child.exitCode !== null || child.signalCode !== null) return child.exitCode;
    child.kill('SIGINT');
    const t = setTimeout(() => killTree(child), 30_000);
    const code = await exited;
    clearTimeout(t);
    return code;
  };
  return {
    stateDir: options.stateDir,
    grpc: String(info['grpc']),
    nats: String(info['nats']),
    agents: (info['agents'] as string[] | undefined) ?? [],
    process: child,
    stderr: () => err,
    stop,
    kill: async () => {
      killTree(child);
      await exited;
    },
    [Symbol.asyncDispose]: async () => {
      await stop();
    },
  };
}

/** SIGKILLs the process group of a child started with `detached: true`. */
export function killTree(child: ChildProcess): void {
  if (child.pid === undefined) return;
  try {
    process.kill(-child.pid, 'SIGKILL');
  } catch {
    // already gone
  }
}

export interface FarmRun {
  readonly code: number | null;
  readonly stdout: string;
  readonly stderr: string;
}

/** Runs one `farm` command to completion. */
export function runFarm(args: readonly string[], options: { env?: NodeJS.ProcessEnv; cwd?: string; timeoutMs?: number; bin?: string } = {}): Promise<FarmRun> {
  return new Promise((resolve, reject) => {
    const child = spawn(options.bin ?? FARM_BIN, args, { stdio: ['ignore', 'pipe', 'pipe'], env: { ...process.env, ...options.env }, cwd: options.cwd ?? REPO_ROOT });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (d: Buffer) => (stdout += d.toString()));
    child.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
    const timer = setTimeout(() => {
      child.kill('SIGKILL');
      reject(new Error(`farm ${args.join(' ')} did not finish within ${options.timeoutMs ?? 600_000} ms\nstdout:\n${stdout}\nstderr:\n${stderr}`));
    }, options.timeoutMs ?? 600_000);
    child.once('error', reject);
    child.once('exit', (code) => {
      clearTimeout(timer);
      resolve({ code, stdout, stderr });
    });
  });
}
