/**
 * The farm's daemons as separate processes, started the way an operator starts them
 * (`farm coordinator --config FILE`, `farm agent --config FILE`), for fault tests that need one
 * agent's pid: each daemon runs in its own process group, so a test can SIGKILL, SIGSTOP or
 * SIGCONT an agent together with its sandbox launcher and builds (`signal`).
 *
 * Each daemon's pino log goes straight into a file (an O_APPEND fd as stdout and stderr): a
 * stopped daemon then blocks no pipe of the test's, and the test reads the lines as evidence
 * (`logLines`). `farm up` is not used here because it restarts an agent that dies.
 */
import { spawn } from 'node:child_process';
import { closeSync, existsSync, mkdirSync, openSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { FARM_BIN } from '@farm/testkit';

/** One parsed log line (pino JSON); a line that is not JSON comes back as `{ msg: line }`. */
export type LogLine = Record<string, unknown> & { readonly msg?: unknown };

export interface DaemonProcess {
  readonly name: string;
  readonly pid: number;
  /** The daemon's own state directory (what its config's `stateDir` says). */
  readonly stateDir: string;
  readonly logFile: string;
  logText(): string;
  logLines(): LogLine[];
  /** Sends `sig` to the daemon's whole process group (its launcher and sandboxes too). */
  signal(sig: NodeJS.Signals): void;
  exited(): boolean;
  /** SIGCONT, then SIGTERM (a clean shutdown), SIGKILL of the group after `graceMs`; idempotent. */
  stop(graceMs?: number): Promise<void>;
  /** SIGCONT + SIGKILL of the whole group; resolves once the daemon is gone. */
  kill(): Promise<void>;
}

/** The host paths the fixtures' `/bin/sh` builders need inside the sandbox (as `farm up` binds). */
export const HOST_SANDBOX_PATHS: readonly string[] = ['/bin', '/usr', '/lib', '/lib64?'];

interface Spawned {
  readonly process: DaemonProcess;
  readonly exit: Promise<string>;
}

function spawnDaemon(name: string, command: 'coordinator' | 'agent', dir: string, config: Record<string, unknown>): Spawned {
  mkdirSync(dir, { recursive: true });
  const configFile = join(dir, `${name}.json`);
  const logFile = join(dir, `${name}.log`);
  writeFileSync(configFile, `${JSON.stringify(config, null, 2)}\n`);
  const logFd = openSync(logFile, 'a');
  // detached: a process group of its own (pgid = pid), so signals reach its children as well.
  const child = spawn(FARM_BIN, [command, '--config', configFile], { stdio: ['ignore', logFd, logFd], detached: true });
  closeSync(logFd);
  const pid = child.pid;
  if (pid === undefined) throw new Error(`cannot start farm ${command} (${name})`);
  let gone = false;
  const exit = new Promise<string>((resolve) => {
    child.once('exit', (code, sig) => {
      gone = true;
      resolve(sig ?? `code ${String(code)}`);
    });
    child.once('error', (e) => {
      gone = true;
      resolve(`not started: ${e.message}`);
    });
  });
  const signalGroup = (sig: NodeJS.Signals): void => {
    try {
      process.kill(-pid, sig);
    } catch {
      // the group is empty already
    }
  };
  const logText = (): string => (existsSync(logFile) ? readFileSync(logFile, 'utf8') : '');
  let stopping: Promise<void> | undefined;
  const daemon: DaemonProcess = {
    name,
    pid,
    stateDir: String(config['stateDir']),
    logFile,
    logText,
    logLines: () => parseLogLines(logText()),
    signal: signalGroup,
    exited: () => gone,
    stop: (graceMs = 10_000) =>
      (stopping ??= (async () => {
        signalGroup('SIGCONT'); // a stopped daemon cannot act on SIGTERM
        if (!gone) child.kill('SIGTERM');
        const timer = setTimeout(() => signalGroup('SIGKILL'), graceMs);
        await exit;
        clearTimeout(timer);
        signalGroup('SIGKILL'); // strays of the group (a launcher, a sandbox) go too
      })()),
    kill: async () => {
      signalGroup('SIGCONT');
      signalGroup('SIGKILL');
      await exit;
    },
  };
  return { process: daemon, exit };
}

export function parseLogLines(text: string): LogLine[] {
  return text
    .split('\n')
    .filter((l) => l.trim() !== '')
    .map((l) => {
      try {
        const parsed: unknown = JSON.parse(l);
        return typeof parsed === 'object' && parsed !== null ? (parsed as LogLine) : { msg: l };
      } catch {
        return { msg: l };
      }
    });
}

/** Waits until `find` picks something out of the daemon's log; rejects if the daemon exits first. */
async function waitForLog<T>(spawned: Spawned, what: string, find: (lines: LogLine[]) => T | undefined, timeoutMs: number): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  let exitedWith: string | undefined;
  void spawned.exit.then((how) => (exitedWith = how));
  for (;;) {
    const found = find(spawned.process.logLines());
    if (found !== undefined) return found;
    if (exitedWith !== undefined) throw new Error(`${spawned.process.name} exited (${exitedWith}) before ${what}:\n${spawned.process.logText().slice(-4000)}`);
    if (Date.now() > deadline) throw new Error(`${spawned.process.name}: no ${what} within ${timeoutMs} ms:\n${spawned.process.logText().slice(-4000)}`);
    await new Promise((r) => setTimeout(r, 50));
  }
}

export interface CoordinatorProcess extends DaemonProcess {
  readonly grpc: string;
}

/**
 * `farm coordinator --config` with `stateDir` under `dir`, listening on a port it picks, and
 * `settings` laid over that (e.g. `{ leaseMs: '3s', heartbeatMs: '1s' }`). Resolves once it
 * logged its gRPC address.
 */
export async function startCoordinatorProcess(options: { dir: string; natsUrl: string; settings?: Record<string, unknown>; readyTimeoutMs?: number }): Promise<CoordinatorProcess> {
  const config = { stateDir: join(options.dir, 'coordinator'), listen: '127.0.0.1:0', nats: { servers: [options.natsUrl] }, ...options.settings };
  const spawned = spawnDaemon('coordinator', 'coordinator', options.dir, config);
  try {
    const grpc = await waitForLog(
      spawned,
      'gRPC address',
      (lines) => lines.map((l) => l['grpc']).find((g): g is string => typeof g === 'string' && /:\d+$/.test(g)),
      options.readyTimeoutMs ?? 30_000,
    );
    return { ...spawned.process, grpc };
  } catch (e) {
    await spawned.process.kill();
    throw e;
  }
}

/**
 * `farm agent --config` named `name`, its state under `dir/<name>`, with the fixtures' sandbox
 * paths and `settings` laid over that (e.g. `{ maxJobs: 1 }`). Resolves once it registered.
 */
export async function startAgentProcess(options: {
  dir: string;
  name: string;
  coordinator: string;
  natsUrl: string;
  settings?: Record<string, unknown>;
  readyTimeoutMs?: number;
}): Promise<DaemonProcess> {
  const config = {
    name: options.name,
    stateDir: join(options.dir, options.name),
    coordinator: options.coordinator,
    nats: { servers: [options.natsUrl] },
    sandboxPaths: [...HOST_SANDBOX_PATHS],
    ...options.settings,
  };
  const spawned = spawnDaemon(options.name, 'agent', options.dir, config);
  try {
    await waitForLog(spawned, 'registration', (lines) => lines.find((l) => l.msg === 'registered with the coordinator'), options.readyTimeoutMs ?? 30_000);
    return spawned.process;
  } catch (e) {
    await spawned.process.kill();
    throw e;
  }
}
