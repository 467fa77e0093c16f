/**
 * The few things copy-back asks of the local Nix store, each one process per batch of paths
 * (never one per path): which paths are not valid (`nix-store --check-validity
 * --print-invalid`), and importing an export stream (`nix-store --import`), which registers
 * each path with the NAR hash Nix computes itself, so `nix-store --verify-path` accepts it.
 */
import { spawn } from 'node:child_process';
import type { Writable } from 'node:stream';
import { FarmError } from '@farm/common';

export interface LocalStoreOptions {
  /** The `nix-store` binary; default from PATH. */
  readonly nixStoreBin?: string;
}

/** Paths per `nix-store` call, far below ARG_MAX. */
export const VALIDITY_BATCH = 2000;

export async function invalidPaths(paths: readonly string[], options: LocalStoreOptions = {}): Promise<Set<string>> {
  const invalid = new Set<string>();
  for (let i = 0; i < paths.length; i += VALIDITY_BATCH) {
    const batch = paths.slice(i, i + VALIDITY_BATCH);
    const run = await runNixStore(['--check-validity', '--print-invalid', ...batch], options);
    if (run.code !== 0) throw new FarmError('INTERNAL', `nix-store --check-validity failed: ${run.stderr.trim()}`);
    for (const line of run.stdout.split('\n')) if (line !== '') invalid.add(line);
  }
  return invalid;
}

/**
 * Runs `nix-store --import`, feeding its stdin with `write` (which must write a complete export
 * stream and resolve); returns the paths Nix reports as imported.
 */
export async function importExportStream(write: (stdin: Writable) => Promise<void>, options: LocalStoreOptions = {}): Promise<string[]> {
  const run = await runNixStore(['--import'], options, write);
  if (run.code !== 0) throw new FarmError('INTERNAL', `nix-store --import failed: ${lastLines(run.stderr)}`);
  return run.stdout.split('\n').filter((l) => l !== '');
}

interface ToolRun {
  readonly code: number | null;
  readonly stdout: string;
  readonly stderr: string;
}

function runNixStore(args: readonly string[], options: LocalStoreOptions, feed?: (stdin: Writable) => Promise<void>): Promise<ToolRun> {
  const bin = options.nixStoreBin ?? 'nix-store';
  return new Promise((resolve, reject) => {
    const child = spawn(bin, args, { stdio: [feed !== undefined ? 'pipe' : 'ignore', 'pipe', 'pipe'] });
    const out: Buffer[] = [];
    const err: Buffer[] = [];
    child.stdout!.on('data', (c: Buffer) => out.push(c));
    child.stderr!.on('data', (c: Buffer) => err.push(c));
    let feedError: unknown;
    child.on('error', (e: NodeJS.ErrnoException) => {
      reject(e.code === 'ENOENT' ? new FarmError('UNAVAILABLE', `cannot run '${bin}': not found on PATH (is Nix installed?)`, {}, { cause: e }) : e);
    });
    child.on('close', (code) => {
      if (feedError !== undefined && code === 0) reject(feedError);
      else resolve({ code, stdout: Buffer.concat(out).toString('utf8'), stderr: Buffer.concat(err).toString('utf8') });
    });
    if (feed !== undefined) {
      const stdin = child.stdin!;
      // EPIPE when nix-store exits early: its exit status and stderr tell the real story.
      stdin.on('error', () => undefined);
      feed(stdin).then(
        () => stdin.end(),
        (e: unknown) => {
          feedError = e;
          child.kill('SIGTERM');
        },
      );
    }
  });
}

function lastLines(text: string, n = 8): string {
  return text.trim().split('\n').slice(-n).join('\n');
}
