/**
 * One Assignment as the agent receives it: the derivation resolved to a BasicDerivation the way
 * Nix's build hook does (inputSrcs = closure of the wanted input outputs ∪ inputSrcs; the input
 * derivations' outputs are valid in the farm store because the job only became ready after they
 * were), and the PathInfo of every path in that closure so the agent can fetch and verify each
 * one. Costs O(closure) store reads per assignment.
 */
import { FarmError } from '@farm/common';
import { closureOf, resolveBasicDerivation, sortedBytewise, type PathInfo } from '@farm/nix';
import { INLINE_NAR_MAX, INLINE_NARS_BUDGET, type Assignment } from '@farm/proto';
import type { FarmStore } from '../ports/farm-store.js';
import { basicDerivationToProto, pathInfoToProto } from './convert.js';

export interface AssignmentLimits {
  readonly timeoutMs: number;
  readonly maxSilentMs: number;
  readonly maxLogBytes: number;
  /** NAR bytes of inputs carried inline (default INLINE_NARS_BUDGET; 0 = none). */
  readonly inlineBudget?: number;
}

/** Small inputs' NARs (held inline by the store), in `order`, within `budget` bytes. */
async function inlineInputNars(store: FarmStore, order: readonly string[], infos: ReadonlyMap<string, PathInfo>, budget: number): Promise<{ path: string; nar: Uint8Array }[]> {
  const out: { path: string; nar: Uint8Array }[] = [];
  let left = budget;
  for (const path of order) {
    const size = Number(infos.get(path)?.narSize ?? Infinity);
    if (size > INLINE_NAR_MAX || size > left) continue;
    const nar = await store.inlineNarOf(path);
    if (nar === undefined) continue;
    out.push({ path, nar });
    left -= nar.length;
  }
  return out;
}

export interface AssignmentLease {
  readonly jobId: string;
  readonly epoch: number;
  readonly deadline: number;
}

export async function buildAssignment(store: FarmStore, drvPath: string, lease: AssignmentLease, limits: AssignmentLimits): Promise<Assignment> {
  const drv = await store.getDerivation(drvPath);
  if (drv === undefined) throw new FarmError('INTERNAL', `derivation ${drvPath} of job ${lease.jobId} is not in the farm store`);
  const inputOutputPaths = new Map<string, Map<string, string>>();
  const roots = [...drv.inputSrcs];
  for (const [inputDrvPath, wanted] of drv.inputDrvs) {
    const input = await store.getDerivation(inputDrvPath);
    if (input === undefined) throw new FarmError('INTERNAL', `input derivation ${inputDrvPath} of ${drvPath} is not in the farm store`);
    const paths = new Map<string, string>();
    for (const name of wanted) {
      const p = input.outputs.get(name)?.path;
      if (p === undefined || p === '') throw new FarmError('INTERNAL', `input derivation ${inputDrvPath} has no static path for output '${name}'`);
      paths.set(name, p);
      roots.push(p);
    }
    inputOutputPaths.set(inputDrvPath, paths);
  }
  // closure() also proves every input is valid (NOT_FOUND otherwise), so the agent can fetch all of it.
  const closure = await store.closure(roots);
  const infos = new Map<string, PathInfo>();
  for (const p of closure) {
    const info = await store.getPathInfo(p);
    if (info === undefined) throw new FarmError('INTERNAL', `input ${p} of ${drvPath} vanished from the farm store`);
    infos.set(p, info);
  }
  const references = new Map([...infos].map(([p, i]) => [p, i.references] as const));
  const basic = resolveBasicDerivation(drv, { inputOutputPaths, references });
  const inputs = sortedBytewise(closureOf(basic.inputSrcs, references));
  // The outputs of the direct input derivations first: they were most likely built elsewhere
  // just now, while older paths of the closure are more likely on the agent already.
  const direct = [...inputOutputPaths.values()].flatMap((m) => [...m.values()]);
  const inputNars = await inlineInputNars(store, [...new Set([...direct, ...inputs])], infos, limits.inlineBudget ?? INLINE_NARS_BUDGET);
  return {
    lease: { jobId: lease.jobId, epoch: lease.epoch },
    deadlineMs: lease.deadline,
    drvPath,
    drv: basicDerivationToProto(basic),
    inputs: inputs.map((p) => pathInfoToProto(infos.get(p)!)),
    timeoutMs: limits.timeoutMs,
    maxSilentMs: limits.maxSilentMs,
    maxLogBytes: limits.maxLogBytes,
    inputNars,
  };
}
