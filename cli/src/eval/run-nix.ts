/**
 * The one way this module runs the local Nix: an argv (never a shell string), stdout and stderr
 * collected in full, and the exit status returned rather than thrown, so that callers turn a
 * failure into a FarmError that names what they were doing. Every call is batched by its caller;
 * nothing here spawns per store path.
 */
import { spawn } from 'node:child_process';
import { FarmError } from '@farm/common';

/** `nix` needs these for flakes and for `nix eval` / `nix path-info` on Nix 2.8. */
export const NIX_FEATURE_ARGS = ['--extra-experimental-features', 'nix-command flakes'] as const;

export interface NixToolOptions {
  /** The `nix` binary; default `nix` from PATH. */
  readonly nixBin?: string;
  /** Working directory for relative paths in installables; default process.cwd(). */
  readonly cwd?: string;
  /** Extra arguments passed to every `nix` call (e.g. `['--arg', 'system', '"x86_64-linux"']`). */
  readonly extraNixArgs?: readonly string[];
  readonly signal?: AbortSignal;
}

export interface NixRun {
  readonly code: number | null;
  readonly stdout: Buffer;
  readonly stderr: string;
}

export function runNix(args: readonly string[], options: NixToolOptions = {}): Promise<NixRun> {
  const bin = options.nixBin ?? 'nix';
  return new Promise((resolve, reject) => {
    const child = spawn(bin, [...NIX_FEATURE_ARGS, ...args], {
      cwd: options.cwd ?? process.cwd(),
      stdio: ['ignore', 'pipe', 'pipe'],
      ...(options.signal ? { signal: options.signal } : {}),
    });
    const out: Buffer[] = [];
    const err: Buffer[] = [];
    child.stdout.on('data', (c: Buffer) => out.push(c));
    child.stderr.on('data', (c: Buffer) => err.push(c));
    child.on('error', (e: NodeJS.ErrnoException) => {
      if (e.code === 'ENOENT') reject(new FarmError('UNAVAILABLE', `cannot run '${bin}': not found on PATH (is Nix installed?)`, {}, { cause: e }));
      else reject(e);
    });
    child.on('close', (code) => {
      resolve({ code, stdout: Buffer.concat(out), stderr: Buffer.concat(err).toString('utf8') });
    });
  });
}

// eslint-disable-next-line no-control-regex
const ANSI = /\x1b\[[0-9;]*[A-Za-z]/g;

/**
 * The first lines of Nix's error output, without colours and without `warning:` lines (Nix
 * prints warnings such as "Git tree is dirty" before the error that matters).
 */
export function nixErrorSummary(stderr: string, maxLines = 12): string {
  const lines = stderr.replace(ANSI, '').split('\n');
  const start = lines.findIndex((l) => l.startsWith('error'));
  const relevant = (start >= 0 ? lines.slice(start) : lines.filter((l) => !l.startsWith('warning:')))
    .filter((l, i, all) => l.trim() !== '' || (i > 0 && all[i - 1]!.trim() !== ''));
  const text = relevant.slice(0, maxLines).join('\n').trim();
  return text === '' ? '(nix printed no error message)' : text;
}
