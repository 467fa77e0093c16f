/**
 * Nix's canonicalisePathMetaData for a freshly built output: every entry (walked with lstat, so
 * symlinks are never followed) gets mtime and atime 1 s after the epoch and owner root:root;
 * every non-symlink gets mode 0444, or 0555 when its owner-execute bit is set — Nix tests
 * S_IXUSR, not "any x bit", and so does the NAR serialiser — which also clears setuid, setgid
 * and sticky. Symlinks keep their targets. Children are fixed before their directory, so a
 * directory made read-only never blocks work inside it (root ignores modes anyway).
 * Iterative (explicit stack), O(entries).
 */
import { chmodSync, lchownSync, lstatSync, lutimesSync, readdirSync } from 'node:fs';
import { join } from 'node:path';

const CANONICAL_TIME = 1;

export function canonicalMode(mode: number): number {
  return (mode & 0o100) !== 0 ? 0o555 : 0o444;
}

export function canonicalisePathMetaData(root: string): void {
  // Post-order: a directory is pushed back (marked) after its children.
  const stack: { path: string; expanded: boolean }[] = [{ path: root, expanded: false }];
  while (stack.length > 0) {
    const top = stack.pop()!;
    const st = lstatSync(top.path);
    if (st.isDirectory() && !top.expanded) {
      stack.push({ path: top.path, expanded: true });
      for (const name of readdirSync(top.path)) stack.push({ path: join(top.path, name), expanded: false });
      continue;
    }
    if (!st.isSymbolicLink()) {
      const want = canonicalMode(st.mode);
      if ((st.mode & 0o7777) !== want) chmodSync(top.path, want);
    }
    if (st.uid !== 0 || st.gid !== 0) lchownSync(top.path, 0, 0);
    lutimesSync(top.path, CANONICAL_TIME, CANONICAL_TIME);
  }
}
