/**
 * The order in which a derivation's outputs are uploaded: an output after every other output of
 * the same derivation it references, so the coordinator never holds a path whose references are
 * missing. Self-references and references outside the derivation do not constrain the order.
 * Outputs that reference each other in a cycle cannot be registered at all (Nix fails the build
 * with "cycle detected"), so that is reported as such. O(outputs²), and outputs are few.
 */
import type { BuiltOutput } from '../build/types.js';

export type OutputOrder = { readonly ok: true; readonly order: BuiltOutput[] } | { readonly ok: false; readonly message: string };

export function referenceOrder(drvPath: string, outputs: readonly BuiltOutput[]): OutputOrder {
  const byPath = new Map(outputs.map((o) => [o.path, o]));
  const done = new Set<string>();
  const order: BuiltOutput[] = [];
  let remaining = [...outputs];
  while (remaining.length > 0) {
    const ready = remaining.filter((o) => o.references.every((r) => r === o.path || !byPath.has(r) || done.has(r)));
    if (ready.length === 0) {
      const [a] = remaining;
      const b = byPath.get(a!.references.find((r) => r !== a!.path && byPath.has(r) && !done.has(r))!)!;
      return { ok: false, message: `cycle detected in build of '${drvPath}' in the references of output '${a!.name}' from output '${b.name}'` };
    }
    for (const o of ready) {
      done.add(o.path);
      order.push(o);
    }
    remaining = remaining.filter((o) => !done.has(o.path));
  }
  return { ok: true, order };
}
