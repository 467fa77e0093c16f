/**
 * Orders a closure so that every item comes after everything it references (dependency-first),
 * which is the order an uploader must use for a store that refuses paths whose references it
 * does not hold yet.
 *
 * Invariants: the result is a permutation of the input's keys; for every item, each of its
 * references (other than itself: a store path may refer to itself) appears earlier; ties are
 * broken bytewise by path, so the same closure always gives the same order. A reference outside
 * the closure or a cycle is an error (a store closure has neither).
 */
import { FarmError } from '@farm/common';
import { sortedBytewise } from '@farm/nix';

export function dependencyOrder(references: ReadonlyMap<string, readonly string[]>): string[] {
  const order: string[] = [];
  const state = new Map<string, 'visiting' | 'done'>();
  for (const start of sortedBytewise(references.keys())) {
    if (state.has(start)) continue;
    // Iterative post-order DFS: closures of thousands of derivations in a chain would overflow
    // a recursive walk's stack.
    const stack: { path: string; next: number; refs: string[] }[] = [{ path: start, next: 0, refs: childrenOf(references, start) }];
    state.set(start, 'visiting');
    while (stack.length > 0) {
      const top = stack[stack.length - 1]!;
      const child = top.refs[top.next++];
      if (child === undefined) {
        stack.pop();
        state.set(top.path, 'done');
        order.push(top.path);
        continue;
      }
      const s = state.get(child);
      if (s === 'done') continue;
      if (s === 'visiting') throw new FarmError('INTERNAL', `reference cycle through ${child}`);
      state.set(child, 'visiting');
      stack.push({ path: child, next: 0, refs: childrenOf(references, child) });
    }
  }
  return order;
}

function childrenOf(references: ReadonlyMap<string, readonly string[]>, path: string): string[] {
  const refs = references.get(path);
  if (refs === undefined) throw new FarmError('INTERNAL', `the closure has no entry for ${path}`);
  const children = sortedBytewise(refs.filter((r) => r !== path));
  for (const r of children) {
    if (!references.has(r)) throw new FarmError('INTERNAL', `${path} refers to ${r}, which is not in the closure`);
  }
  return children;
}
