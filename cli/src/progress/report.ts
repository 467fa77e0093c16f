/**
 * The end of `farm submit` (pure): the outputs of every root that did not fail (taken from the
 * local derivations, so they are exactly what `nix-build` would print), each failed derivation
 * with its reason, and for dependency failures the input(s) that actually failed, found by
 * walking the local derivation graph. Exit status 1 if anything failed.
 */
import { firstLine } from './render.js';
import { FAILED_PHASES, type JobPhase, type ProgressCounts, type ProgressModel } from './model.js';

export interface RootRef {
  /** What the user asked for: an attribute path, or the `.drv` path for drv installables. */
  readonly label: string;
  readonly drvPath: string;
  /** Output name → path, from the local derivation. */
  readonly outputs: Readonly<Record<string, string>>;
}

export interface RootOutput {
  readonly label: string;
  readonly drvPath: string;
  readonly output: string;
  readonly path: string;
}

export interface Failure {
  readonly drvPath: string;
  readonly name: string;
  readonly phase: JobPhase;
  readonly reason: string;
  /** For dependency failures: the failed derivations this one depends on (nearest ones). */
  readonly failedInputs: readonly string[];
}

export interface FinalReport {
  readonly ok: boolean;
  readonly exitCode: 0 | 1;
  readonly outputs: readonly RootOutput[];
  readonly failures: readonly Failure[];
  readonly counts: ProgressCounts;
}

/** drv path → its input drv paths (from the local derivations). */
export type DrvGraph = ReadonlyMap<string, readonly string[]>;

const FAILURE_ORDER: readonly JobPhase[] = ['failed', 'dependency-failed', 'cancelled'];

export function buildReport(roots: readonly RootRef[], model: ProgressModel, graph: DrvGraph): FinalReport {
  const phaseOfDrv = new Map(model.jobs().map((j) => [j.drvPath, j.phase]));
  const failures: Failure[] = model
    .jobs()
    .filter((j) => FAILED_PHASES.has(j.phase))
    .sort((a, b) => FAILURE_ORDER.indexOf(a.phase) - FAILURE_ORDER.indexOf(b.phase) || (a.drvPath < b.drvPath ? -1 : a.drvPath > b.drvPath ? 1 : 0))
    .map((j) => ({
      drvPath: j.drvPath,
      name: j.name,
      phase: j.phase,
      reason: j.reason,
      failedInputs: j.phase === 'dependency-failed' ? failedInputsOf(j.drvPath, graph, phaseOfDrv, j.reason) : [],
    }));
  const outputs: RootOutput[] = [];
  for (const r of roots) {
    if (FAILED_PHASES.has(phaseOfDrv.get(r.drvPath) ?? 'done')) continue;
    for (const [output, path] of Object.entries(r.outputs)) outputs.push({ label: r.label, drvPath: r.drvPath, output, path });
  }
  const ok = failures.length === 0;
  return { ok, exitCode: ok ? 0 : 1, outputs, failures, counts: model.counts() };
}

/**
 * The nearest failed ancestors: inputs that failed themselves (or were cancelled), looking
 * through inputs that only failed because of their own inputs. Falls back to the drv path the
 * coordinator names in its reason ("dependency failed: <drv>") when the graph does not know.
 */
export function failedInputsOf(drvPath: string, graph: DrvGraph, phases: ReadonlyMap<string, JobPhase>, reason = ''): string[] {
  const found = new Set<string>();
  const seen = new Set<string>([drvPath]);
  const stack = [...(graph.get(drvPath) ?? [])];
  while (stack.length > 0) {
    const p = stack.pop()!;
    if (seen.has(p)) continue;
    seen.add(p);
    const phase = phases.get(p);
    if (phase === 'failed' || phase === 'cancelled') found.add(p);
    else if (phase === 'dependency-failed') stack.push(...(graph.get(p) ?? []));
  }
  if (found.size === 0) {
    for (const m of reason.matchAll(/\/[^\s:,;'"]+\.drv/g)) found.add(m[0]);
  }
  return [...found].sort();
}

/** `attr -> /nix/store/…` for single-output roots, `attr^dev -> …` for each output of the others. */
export function outputLines(outputs: readonly RootOutput[]): string[] {
  const perRoot = new Map<string, number>();
  for (const o of outputs) perRoot.set(`${o.label}\0${o.drvPath}`, (perRoot.get(`${o.label}\0${o.drvPath}`) ?? 0) + 1);
  return outputs.map((o) => {
    const single = perRoot.get(`${o.label}\0${o.drvPath}`) === 1 && o.output === 'out';
    return `${single ? o.label : `${o.label}^${o.output}`} -> ${o.path}`;
  });
}

/** The failure section (for stderr); empty when nothing failed. */
export function failureLines(failures: readonly Failure[]): string[] {
  if (failures.length === 0) return [];
  const lines = [`error: ${failures.length} derivation${failures.length === 1 ? '' : 's'} failed:`];
  for (const f of failures) {
    const reason = firstLine(f.reason);
    if (f.phase === 'dependency-failed') {
      const inputs = f.failedInputs.length > 0 ? `input ${f.failedInputs.join(', ')} failed` : reason || 'an input failed';
      lines.push(`  ${f.drvPath}: dependency failed: ${inputs}`);
    } else if (f.phase === 'cancelled') {
      lines.push(`  ${f.drvPath}: cancelled${reason !== '' ? ` (${reason})` : ''}`);
    } else {
      lines.push(`  ${f.drvPath}: ${reason !== '' ? reason : 'build failed'}`);
    }
  }
  return lines;
}
