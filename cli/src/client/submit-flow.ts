/**
 * `farm submit` from installables to exit status: check the farm is there (GetInfo), evaluate
 * with the local Nix, build the upload bundle, upload what the farm lacks (dependency-first),
 * Submit, then follow Watch to the final event (with build logs when asked: follow-flow.ts),
 * report every root's outputs and every failure, and copy outputs back into the local store when
 * asked.
 * The order puts GetInfo first so that an unreachable farm is reported before any evaluation.
 *
 * Traced (when an SDK is on) as the root span `farm submit` with children `evaluate` and
 * `upload`; every gRPC call made inside carries the active span in its metadata, so the
 * coordinator's spans of this submission join the trace.
 */
import { ATTR, FarmError, recording, withSpan, type Clock } from '@farm/common';
import { DEFAULT_STORE_DIR } from '@farm/nix';
import type { SubmitRequest } from '@farm/proto';
import { buildUploadBundle, evaluateInstallables, rootDrvPaths, type EvaluatedRoot, type Installable, type UploadBundle } from '../eval/index.js';
import { ProgressModel, planOf } from '../progress/model.js';
import type { SubmitReporter } from '../progress/reporter.js';
import { buildReport, type DrvGraph, type FinalReport, type RootRef } from '../progress/report.js';
import { bundleKnowledge, copyBack } from './copy-back.js';
import type { FarmClient } from './coordinator-client.js';
import { followToEnd } from './follow-flow.js';
import { uploadMissing } from './upload.js';

export interface SubmitSettings {
  readonly installables: readonly Installable[];
  readonly priority: number;
  readonly timeoutMs: number;
  readonly maxSilentMs: number;
  readonly client: string;
  readonly printBuildLogs: boolean;
  readonly copyBack: boolean;
  readonly noWait: boolean;
  readonly cwd: string;
  /** How long to wait for build logs to reach their end after the submission finished. */
  readonly logGraceMs?: number;
}

export interface SubmitOutcome {
  readonly exitCode: number;
  readonly submissionId: string;
  readonly report?: FinalReport;
}

export type ReporterFactory = (model: ProgressModel) => SubmitReporter;

export function runSubmit(client: FarmClient, settings: SubmitSettings, makeReporter: ReporterFactory, clock: Clock, onSubmitted?: (id: string) => void): Promise<SubmitOutcome> {
  return withSpan('farm submit', { [ATTR.client]: settings.client }, async (span) => {
    const outcome = await submitTraced(client, settings, makeReporter, clock, onSubmitted);
    if (recording(span)) span.setAttributes({ [ATTR.submissionId]: outcome.submissionId, 'process.exit.code': outcome.exitCode });
    return outcome;
  });
}

async function submitTraced(client: FarmClient, settings: SubmitSettings, makeReporter: ReporterFactory, clock: Clock, onSubmitted?: (id: string) => void): Promise<SubmitOutcome> {
  const model = new ProgressModel(clock);
  const reporter = makeReporter(model);
  try {
    const info = await client.getInfo();
    if (info.storeDir !== '' && info.storeDir !== DEFAULT_STORE_DIR) {
      throw new FarmError('FAILED_PRECONDITION', `the farm's store is ${info.storeDir} but the local store is ${DEFAULT_STORE_DIR}`);
    }

    reporter.step(`evaluating ${settings.installables.map((i) => i.text).join(' ')}`);
    const { roots, bundle } = await withSpan('evaluate', {}, async (span) => {
      const roots = await evaluateInstallables(settings.installables, { cwd: settings.cwd });
      if (roots.length === 0) throw new FarmError('INVALID_ARGUMENT', `no derivations in ${settings.installables.map((i) => i.text).join(' ')}`);
      reporter.evaluated(roots);

      reporter.step('reading the derivation closure');
      const bundle = await buildUploadBundle(rootDrvPaths(roots));
      const drvCount = bundle.items.filter((i) => i.kind === 'drv').length;
      reporter.bundle(drvCount, bundle.items.length - drvCount);
      if (recording(span)) span.setAttributes({ 'farm.roots': roots.length, 'farm.derivations': drvCount, [ATTR.paths]: bundle.items.length });
      return { roots, bundle };
    });

    reporter.step('asking the farm what it lacks');
    await withSpan('upload', {}, async (span) => {
      const uploaded = await uploadMissing(client, bundle, (e) => reporter.upload(e));
      if (recording(span)) span.setAttributes({ [ATTR.bytes]: uploaded.bytes, [ATTR.paths]: uploaded.uploaded.length });
    });

    reporter.step('submitting');
    const plan = await client.submit(submitRequest(roots, settings));
    model.setPlan(planOf(plan));
    reporter.submitted(plan.submissionId, plan);
    onSubmitted?.(plan.submissionId);
    if (settings.noWait) return { exitCode: 0, submissionId: plan.submissionId };

    await followToEnd(client, plan.submissionId, model, reporter, settings);

    const report = buildReport(rootRefs(roots, settings.installables), model, drvGraph(bundle));
    let exitCode: number = report.exitCode;
    let copyError: unknown;
    if (settings.copyBack && report.outputs.length > 0) {
      try {
        const copied = await copyBack(client, report.outputs.map((o) => o.path), bundleKnowledge(bundle.items), { onEvent: (e) => reporter.copyBack(e) });
        if (copied.imported.length === 0) reporter.notice(`copy-back: the local store has all ${copied.alreadyValid.length} outputs already`);
      } catch (e) {
        copyError = e;
        exitCode = 1;
      }
    }
    reporter.finish(report, plan.submissionId);
    if (copyError !== undefined) throw new FarmError('INTERNAL', `copying the outputs back failed: ${(copyError as Error).message}`, {}, { cause: copyError });
    return { exitCode, submissionId: plan.submissionId, report };
  } finally {
    reporter.close();
  }
}

export function submitRequest(roots: readonly EvaluatedRoot[], s: Pick<SubmitSettings, 'priority' | 'client' | 'timeoutMs' | 'maxSilentMs'>): SubmitRequest {
  const byDrv = new Map<string, EvaluatedRoot>();
  for (const r of roots) if (!byDrv.has(r.drvPath)) byDrv.set(r.drvPath, r);
  return {
    roots: [...byDrv.values()].map((r) => ({ drvPath: r.drvPath, outputs: [], attrPath: r.attrPath })),
    priority: s.priority,
    client: s.client,
    timeoutMs: s.timeoutMs,
    maxSilentMs: s.maxSilentMs,
  };
}

/** Roots as the final report names them: the attribute path, or the `.drv` path for drv installables. */
export function rootRefs(roots: readonly EvaluatedRoot[], installables: readonly Installable[]): RootRef[] {
  const drvInstallables = new Set(installables.flatMap((i) => (i.kind === 'drv' ? [i.drvPath] : [])));
  return roots.map((r) => ({ label: drvInstallables.has(r.drvPath) && r.attrPath === r.name ? r.drvPath : r.attrPath, drvPath: r.drvPath, outputs: r.outputs }));
}

export function drvGraph(bundle: UploadBundle): DrvGraph {
  const graph = new Map<string, string[]>();
  for (const item of bundle.items) if (item.derivation !== undefined) graph.set(item.path, [...item.derivation.inputDrvs.keys()]);
  return graph;
}
