/**
 * `farm retry <target>` from the Retry call to exit status: the coordinator forgets the failures
 * and submits anew; the new submission is then followed exactly as `farm submit` follows its own
 * (follow-flow.ts, same reporters), and the final report names every root's outputs and every
 * failure. There is no local evaluation here, so the roots are labelled by their drv paths and
 * their outputs come from the farm's events (a root already valid before the retry has none).
 */
import type { Clock } from '@farm/common';
import type { RetryResponse__Output } from '@farm/proto';
import { ProgressModel, planOf } from '../progress/model.js';
import type { SubmitReporter } from '../progress/reporter.js';
import { buildReport, type FinalReport, type RootRef } from '../progress/report.js';
import type { FarmClient } from './coordinator-client.js';
import { followToEnd } from './follow-flow.js';
import type { ReporterFactory } from './submit-flow.js';

export interface RetrySettings {
  readonly target: string;
  readonly printBuildLogs: boolean;
  readonly noWait: boolean;
  readonly logGraceMs?: number;
}

export interface RetryHooks {
  /** What was retried, before anything else is reported (`--json`: the first line). */
  retried(r: RetryResponse__Output, reporter: SubmitReporter): void;
  /** The new submission exists (`--no-wait` prints its id). */
  submitted?(submissionId: string): void;
}

export interface RetryOutcome {
  readonly exitCode: number;
  readonly retry: RetryResponse__Output;
  readonly report?: FinalReport;
}

export async function runRetry(client: FarmClient, settings: RetrySettings, makeReporter: ReporterFactory, clock: Clock, hooks: RetryHooks): Promise<RetryOutcome> {
  const model = new ProgressModel(clock);
  const reporter = makeReporter(model);
  try {
    const r = await client.retry(settings.target);
    hooks.retried(r, reporter);
    model.setPlan(planOf(r));
    reporter.submitted(r.submissionId, { submissionId: r.submissionId, jobsTotal: r.jobsTotal, alreadyValid: r.alreadyValid, shared: r.shared });
    hooks.submitted?.(r.submissionId);
    if (settings.noWait) return { exitCode: 0, retry: r };

    await followToEnd(client, r.submissionId, model, reporter, settings);
    // No local derivation graph: a dependency failure names its failed input from the reason.
    const report = buildReport(retryRoots(r.roots, model), model, new Map());
    reporter.finish(report, r.submissionId);
    return { exitCode: report.exitCode, retry: r, report };
  } finally {
    reporter.close();
  }
}

/** The roots as the final report names them: by drv path, with the outputs the farm reported. */
export function retryRoots(roots: readonly string[], model: ProgressModel): RootRef[] {
  return roots.map((drvPath) => ({ label: drvPath, drvPath, outputs: model.job(drvPath)?.outputs ?? {} }));
}

/** The human line that says what was retried. */
export function retriedLine(r: RetryResponse__Output): string {
  const n = r.retried.length;
  const what = `${n} failed derivation${n === 1 ? '' : 's'}`;
  const of = r.retryOf !== '' ? ` of ${r.retryOf}` : '';
  return `retrying ${what}${of} as ${r.submissionId}: ${r.retried.join(', ')}`;
}

/** `--json`: the first line. */
export function retriedJson(r: RetryResponse__Output): Record<string, unknown> {
  return { type: 'retried', submissionId: r.submissionId, retryOf: r.retryOf, retried: r.retried, roots: r.roots, jobsTotal: r.jobsTotal, alreadyValid: r.alreadyValid, shared: r.shared };
}
