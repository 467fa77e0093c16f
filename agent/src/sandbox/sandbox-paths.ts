/**
 * Nix's `sandbox-paths` syntax: `PATH` binds the host PATH at the same place, `TARGET=SOURCE`
 * binds host SOURCE at TARGET, and a trailing `?` makes the entry optional (silently dropped when
 * the source does not exist). Everything is bound read-only in the farm's sandbox.
 */
import { existsSync } from 'node:fs';
import { FarmError } from '@farm/common';

export interface SandboxBind {
  /** Where the build sees it (absolute). */
  readonly target: string;
  /** The host path (absolute). */
  readonly source: string;
}

export function parseSandboxPath(entry: string): { bind: SandboxBind; optional: boolean } {
  let s = entry.trim();
  const optional = s.endsWith('?');
  if (optional) s = s.slice(0, -1);
  const eq = s.indexOf('=');
  const target = eq < 0 ? s : s.slice(0, eq);
  const source = eq < 0 ? s : s.slice(eq + 1);
  for (const [what, p] of [['target', target], ['source', source]] as const) {
    if (!p.startsWith('/')) {
      throw new FarmError('INVALID_ARGUMENT', `sandbox path '${entry}': ${what} '${p}' is not an absolute path`, { entry });
    }
  }
  if (target === '/' || target === '/nix' || target === '/nix/store' || target.startsWith('/nix/store/') || target === '/build' || target.startsWith('/build/')) {
    throw new FarmError('INVALID_ARGUMENT', `sandbox path '${entry}': target '${target}' would hide the store or the build directory`, { entry });
  }
  return { bind: { target, source }, optional };
}

/** Parses every entry; missing optional sources are dropped, missing required ones refused. */
export function resolveSandboxPaths(entries: readonly string[], exists: (p: string) => boolean = existsSync): SandboxBind[] {
  const binds: SandboxBind[] = [];
  for (const entry of entries) {
    const { bind, optional } = parseSandboxPath(entry);
    if (!exists(bind.source)) {
      if (optional) continue;
      throw new FarmError('FAILED_PRECONDITION', `sandbox path '${entry}': '${bind.source}' does not exist on this host`, { entry });
    }
    binds.push(bind);
  }
  return binds;
}
