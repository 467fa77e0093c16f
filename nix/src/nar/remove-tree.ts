/**
 * Removes a tree this library created (the unpacker's cleanup on error), iteratively: Node's
 * recursive rmSync recurses per directory level and overflows the stack on very deep trees.
 * Never follows symlinks (they are unlinked, not entered). Best effort: errors are ignored.
 * Complexity: O(entries); memory O(depth + widest directory listing).
 */
import { lstatSync, readdirSync, rmdirSync, unlinkSync } from 'node:fs';

const SLASH = Buffer.from('/');

export function removeTreeQuietly(root: Buffer): void {
  const stack: { path: Buffer; listed: boolean }[] = [{ path: root, listed: false }];
  while (stack.length > 0) {
    const top = stack[stack.length - 1]!;
    try {
      if (top.listed) {
        stack.pop();
        rmdirSync(top.path);
        continue;
      }
      const st = lstatSync(top.path, { throwIfNoEntry: false });
      if (st === undefined) {
        stack.pop();
      } else if (!st.isDirectory()) {
        stack.pop();
        unlinkSync(top.path);
      } else {
        top.listed = true;
        for (const name of readdirSync(top.path, { encoding: 'buffer' })) stack.push({ path: Buffer.concat([top.path, SLASH, name]), listed: false });
      }
    } catch {
      stack.pop();
    }
  }
}
