/**
 * Runs the real Nix 2.8 tools for cross-checks. A missing binary or a failing command is a test
 * failure (with Nix's stderr in the message), never a skip.
 */
import { spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

export function runNix(cmd: string, args: readonly string[], cwd?: string): string {
  const r = spawnSync(cmd, args, {
    encoding: 'utf8',
    maxBuffer: 256 * 1024 * 1024,
    env: { ...process.env, NIX_CONFIG: 'substituters =\nexperimental-features = nix-command' },
    ...(cwd !== undefined ? { cwd } : {}),
  });
  if (r.error) throw new Error(`cannot run ${cmd} (is Nix 2.8 installed?): ${r.error.message}`);
  if (r.status !== 0) throw new Error(`${cmd} ${args.join(' ')} exited ${r.status}:\n${r.stderr}`);
  return r.stdout;
}

/** A fresh temp directory for a chroot store (`--store <dir>`); remove it with `dispose`. */
export function makeTempDir(prefix: string): { dir: string; dispose: () => void } {
  const dir = mkdtempSync(join(tmpdir(), prefix));
  return { dir, dispose: () => rmSync(dir, { recursive: true, force: true }) };
}
