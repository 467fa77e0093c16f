/**
 * Runs a bwrap command line (started by the agent's launcher process, see launcher.ts) and
 * supervises it: one connection carries the builder's stdout and stderr (in the order written,
 * as Nix's single log pipe does), chunks go to `onLog` as they arrive,
 * and the limits — wall-clock timeout, max silence, log size, abort signal — kill the sandbox.
 *
 * Invariants:
 * - At most one kill reason is recorded: the first limit hit wins and later ones are ignored.
 * - The promise resolves only after the sandbox's pid namespace is gone (its init no longer
 *   exists or is a zombie, which the kernel allows only after every other member was killed), so
 *   no build process outlives the call, background children included.
 * - No onLog call happens after the promise resolves.
 */
import { readFileSync } from 'node:fs';
import { setTimeout as sleep } from 'node:timers/promises';
import { encodeArgs } from './bwrap.js';
import { sharedLauncher, type Launcher } from './launcher.js';

export type KillReason = 'timeout' | 'max-silent' | 'log-limit' | 'cancelled';

export type SandboxExit =
  | { readonly kind: 'exited'; readonly exitCode: number }
  | { readonly kind: 'killed'; readonly reason: KillReason }
  /** bwrap could not set the sandbox up: the builder never started. */
  | { readonly kind: 'setup-failed'; readonly exitCode: number | null; readonly signal: string | null; readonly error?: string };

export interface RunSandboxedOptions {
  readonly bwrap: string;
  /** Options, passed through a pipe with `--args 4`. */
  readonly options: readonly string[];
  /** `--`, the builder and its arguments. */
  readonly command: readonly string[];
  readonly onLog: (chunk: Uint8Array) => void;
  readonly timeoutMs?: number | undefined;
  readonly maxSilentMs?: number | undefined;
  readonly maxLogBytes?: number | undefined;
  readonly signal?: AbortSignal | undefined;
  /** Starts bwrap; the process's shared launcher unless given. */
  readonly launcher?: Launcher | undefined;
}

const NS_GONE_POLL_MS = 10;
const NS_GONE_MAX_MS = 10_000;

export async function runSandboxed(o: RunSandboxedOptions): Promise<SandboxExit> {
  if (o.signal?.aborted === true) return { kind: 'killed', reason: 'cancelled' };

  let killReason: KillReason | undefined;
  let nsInit: ProcessRef | undefined;
  let bwrapProcess: ProcessRef | undefined;
  let childExitCode: number | undefined;
  let statusText = '';
  let logBytes = 0;
  let delivering = true;
  const timers: NodeJS.Timeout[] = [];

  const kill = (reason: KillReason) => {
    if (killReason !== undefined || childExitCode !== undefined) return;
    killReason = reason;
    // Killing the namespace's init takes every build process with it; killing bwrap too makes
    // sure nothing waits on a half-started sandbox.
    if (nsInit !== undefined) killIfSame(nsInit);
    if (bwrapProcess !== undefined) killIfSame(bwrapProcess);
  };

  let silence: NodeJS.Timeout | undefined;
  const launched = await (o.launcher ?? sharedLauncher()).launch({
    file: o.bwrap,
    args: ['--json-status-fd', '3', '--args', '4', ...o.command],
    fd4: encodeArgs(o.options),
    onStatus: (text) => {
      statusText += text;
      const pid = /"child-pid":\s*(\d+)/.exec(statusText);
      if (pid !== null && nsInit === undefined) {
        nsInit = processRef(Number(pid[1]));
        if (killReason !== undefined) killIfSame(nsInit);
      }
      const exit = /"exit-code":\s*(\d+)/.exec(statusText);
      if (exit !== null) childExitCode = Number(exit[1]);
    },
    onLog: (chunk) => {
      if (!delivering) return;
      silence?.refresh();
      logBytes += chunk.length;
      o.onLog(chunk);
      if (o.maxLogBytes !== undefined && logBytes > o.maxLogBytes) kill('log-limit');
    },
  });
  void launched.pid.then((pid) => {
    if (pid === undefined) return;
    bwrapProcess = processRef(pid);
    if (killReason !== undefined) killIfSame(bwrapProcess);
  });

  if (o.maxSilentMs !== undefined) {
    silence = setTimeout(() => kill('max-silent'), o.maxSilentMs);
    timers.push(silence);
  }
  if (o.timeoutMs !== undefined) timers.push(setTimeout(() => kill('timeout'), o.timeoutMs));
  const onAbort = () => kill('cancelled');
  o.signal?.addEventListener('abort', onAbort, { once: true });

  const closed = await launched.closed.finally(() => {
    delivering = false;
    for (const t of timers) clearTimeout(t);
    o.signal?.removeEventListener('abort', onAbort);
  });

  if (nsInit !== undefined) {
    if (killReason === undefined && childExitCode === undefined) killIfSame(nsInit);
    await waitUntilGone(nsInit);
  }
  if (killReason !== undefined) return { kind: 'killed', reason: killReason };
  if (childExitCode !== undefined) return { kind: 'exited', exitCode: childExitCode };
  if (closed.error !== undefined) return { kind: 'setup-failed', exitCode: null, signal: null, error: closed.error };
  return { kind: 'setup-failed', exitCode: closed.code, signal: closed.signal };
}

/**
 * A process by pid and start time, so that a pid the kernel has since reused for an unrelated
 * process is never signalled or waited for.
 */
interface ProcessRef {
  readonly pid: number;
  /** Field 22 of /proc/PID/stat; undefined when the process was already gone. */
  readonly startTime: string | undefined;
}

function readStat(pid: number): { state: string; startTime: string } | undefined {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    // Fields after the parenthesised command name (which may contain spaces): state is field 3.
    const rest = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
    return { state: rest[0] ?? '', startTime: rest[19] ?? '' };
  } catch {
    return undefined;
  }
}

function processRef(pid: number): ProcessRef {
  return { pid, startTime: readStat(pid)?.startTime };
}

/** True while the process exists, is the same one, and is not a zombie. */
function isAlive(p: ProcessRef): boolean {
  const st = readStat(p.pid);
  return st !== undefined && p.startTime !== undefined && st.startTime === p.startTime && st.state !== 'Z' && st.state !== 'X';
}

function killIfSame(p: ProcessRef): void {
  if (!isAlive(p)) return;
  try {
    process.kill(p.pid, 'SIGKILL');
  } catch {
    // exited meanwhile
  }
}

async function waitUntilGone(p: ProcessRef): Promise<void> {
  for (let waited = 0; isAlive(p); waited += NS_GONE_POLL_MS) {
    if (waited >= NS_GONE_MAX_MS) throw new Error(`sandbox init process ${p.pid} did not exit ${NS_GONE_MAX_MS} ms after its build ended`);
    killIfSame(p);
    await sleep(NS_GONE_POLL_MS);
  }
}
