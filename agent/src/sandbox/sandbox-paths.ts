/**
 * Nix's `sandbox-paths` syntax: `PATH` binds the host PATH at the same place, `TARGET=SOURCE`
 * binds host SOURCE at TARGET, and a trailing `?` makes the entry optional (silently dropped when
 * the source does not exist). Everything is bound read-only in the farm's sandbox.
 */
import { existsSync, lstatSync, readlinkSync } from 'node:fs';
import { dirname, resolve } from 'node:path';
import { FarmError } from '@farm/common';

export interface SandboxBind {
  /** Where the build sees it (absolute). */
  readonly target: string;
  /** The host path (absolute). */
  readonly source: string;
  /**
   * Set when the host path is a symlink into another of the binds (Debian's /bin -> usr/bin
   * beside /usr): the sandbox gets the same symlink instead of a second bind of the same tree.
   */
  readonly symlink?: string;
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

/** The link's contents when `path` is a symlink, else undefined. */
export function hostSymlink(path: string): string | undefined {
  try {
    return lstatSync(path).isSymbolicLink() ? readlinkSync(path) : undefined;
  } catch {
    return undefined;
  }
}

/**
 * Replaces a bind of a host symlink by the symlink itself when it points into another bind that
 * shows the host tree at the same place (`/bin` -> `usr/bin` with `/usr` bound at `/usr`): the
 * build sees the same thing, as on the host, and bwrap saves a mount (~0.3 ms a build each).
 */
export function preferSymlinks(binds: readonly SandboxBind[], readLink: (p: string) => string | undefined = hostSymlink): SandboxBind[] {
  const identity = binds.filter((b) => b.source === b.target).map((b) => b.target);
  return binds.map((b) => {
    if (b.source !== b.target) return b;
    const link = readLink(b.source);
    if (link === undefined) return b;
    const points = resolve(dirname(b.source), link);
    const inside = identity.some((t) => t !== b.target && (points === t || points.startsWith(`${t}/`)));
    // A bind below this one needs a real directory here for its mount point.
    const covers = binds.some((o) => o.target.startsWith(`${b.target}/`));
    return inside && !covers ? { ...b, symlink: link } : b;
  });
}
