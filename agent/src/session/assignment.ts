/**
 * Reading an Assignment off the wire: the BasicDerivation as the builder wants it (Maps in
 * bytewise key order, as Nix's std::map iterates) and the limits (0 = none). Pure.
 */
import { FarmError } from '@farm/common';
import { sortUtf8, type BasicDerivation, type DerivationOutput } from '@farm/nix';
import type { Assignment__Output } from '@farm/proto';

export interface AssignmentView {
  readonly jobId: string;
  readonly epoch: string;
  readonly drvPath: string;
  readonly drv: BasicDerivation;
  readonly inputPaths: readonly string[];
  readonly timeoutMs: number | undefined;
  readonly maxSilentMs: number | undefined;
  readonly maxLogBytes: number | undefined;
}

export function viewAssignment(a: Assignment__Output): AssignmentView {
  if (a.lease === null || a.lease.jobId === '') throw new FarmError('INVALID_ARGUMENT', 'assignment without a lease');
  if (a.drv === null) throw new FarmError('INVALID_ARGUMENT', `assignment of ${a.drvPath} without a derivation`);
  const outputs = new Map<string, DerivationOutput>();
  for (const name of sortUtf8(Object.keys(a.drv.outputs))) {
    const o = a.drv.outputs[name]!;
    outputs.set(name, { path: o.path, hashAlgo: o.hashAlgo, hash: o.hash });
  }
  const env = new Map<string, string>();
  for (const k of sortUtf8(Object.keys(a.drv.env))) env.set(k, a.drv.env[k]!);
  return {
    jobId: a.lease.jobId,
    epoch: a.lease.epoch,
    drvPath: a.drvPath,
    drv: { outputs, inputSrcs: [...a.drv.inputSrcs], system: a.drv.system, builder: a.drv.builder, args: [...a.drv.args], env },
    inputPaths: a.inputs.map((i) => i.path),
    timeoutMs: limit(a.timeoutMs),
    maxSilentMs: limit(a.maxSilentMs),
    maxLogBytes: limit(a.maxLogBytes),
  };
}

/** uint64 decimal → a positive number, or undefined for 0 ("none"). */
function limit(v: string): number | undefined {
  const n = Number(v);
  return Number.isFinite(n) && n > 0 ? n : undefined;
}
