/**
 * The graph a submission admits, read from the derivations in the farm store: breadth-first from
 * the roots over inputDrvs, stopping at derivations whose outputs are all valid already (their
 * inputs need nothing). Each node carries what routing needs (system, requiredSystemFeatures) and
 * the output paths (for `outputs` on succeeded events). O(nodes visited) store reads.
 */
import { FarmError } from '@farm/common';
import { requiredSystemFeatures, type Derivation } from '@farm/nix';
import type { DrvNode } from '../core/scheduler-types.js';
import type { FarmStore } from '../ports/farm-store.js';

export interface LoadedGraph {
  readonly graph: Map<string, DrvNode>;
  /** Derivations whose every output is valid in the store. */
  readonly valid: Set<string>;
  /** drv path → output name → output path (for every node). */
  readonly outputs: Map<string, Record<string, string>>;
}

export function outputPaths(drv: Derivation): Record<string, string> {
  const out: Record<string, string> = {};
  for (const [name, o] of drv.outputs) out[name] = o.path;
  return out;
}

export async function loadGraph(store: FarmStore, roots: readonly string[]): Promise<LoadedGraph> {
  const graph = new Map<string, DrvNode>();
  const valid = new Set<string>();
  const outputs = new Map<string, Record<string, string>>();
  const queue = [...new Set(roots)];
  const seen = new Set(queue);
  for (let i = 0; i < queue.length; i++) {
    const drvPath = queue[i]!;
    const drv = await store.getDerivation(drvPath);
    if (drv === undefined) {
      throw new FarmError('FAILED_PRECONDITION', `derivation ${drvPath} is not in the farm store (upload it first)`, { path: drvPath });
    }
    const inputDrvs = [...drv.inputDrvs.keys()];
    graph.set(drvPath, { drvPath, system: drv.system, requiredFeatures: requiredSystemFeatures(drv), inputDrvs });
    const outs = outputPaths(drv);
    outputs.set(drvPath, outs);
    const paths = Object.values(outs);
    // An output without a static path (content-addressed derivation) is never "already valid".
    const allValid = paths.every((p) => p !== '') && (await store.queryValidPaths(paths)).size === new Set(paths).size;
    if (allValid) {
      valid.add(drvPath);
      continue;
    }
    for (const input of inputDrvs) {
      if (!seen.has(input)) {
        seen.add(input);
        queue.push(input);
      }
    }
  }
  return { graph, valid, outputs };
}
