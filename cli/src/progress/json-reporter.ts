/** `farm submit --json`: one JSON object per line on stdout for everything that happens. */
import type { Writable } from 'node:stream';
import type { SubmissionEvent__Output, SubmitResponse__Output } from '@farm/proto';
import type { LogJob } from '../client/build-logs.js';
import type { CopyBackEvent } from '../client/copy-back.js';
import type { UploadEvent } from '../client/upload.js';
import type { EvaluatedRoot } from '../eval/index.js';
import type { JobChange } from './model.js';
import { jobJson, type SubmitReporter } from './reporter.js';
import type { FinalReport } from './report.js';

export class JsonReporter implements SubmitReporter {
  constructor(private readonly out: Writable) {}

  private emit(o: Record<string, unknown>): void {
    this.out.write(`${JSON.stringify(o)}\n`);
  }

  step(text: string): void {
    this.emit({ type: 'step', text });
  }

  evaluated(roots: readonly EvaluatedRoot[]): void {
    this.emit({ type: 'evaluated', roots: roots.map((r) => ({ attrPath: r.attrPath, drvPath: r.drvPath, name: r.name, system: r.system, outputs: r.outputs })) });
  }

  bundle(derivations: number, sources: number): void {
    this.emit({ type: 'bundle', derivations, sources });
  }

  upload(e: UploadEvent): void {
    if (e.kind === 'missing') this.emit({ type: 'upload-plan', paths: e.total, missing: e.missing, bytes: e.bytes });
    else this.emit({ type: 'uploaded', path: e.path, index: e.index, count: e.count, bytes: e.bytes, alreadyValid: e.alreadyValid });
  }

  submitted(submissionId: string, plan: SubmitResponse__Output): void {
    this.emit({ type: 'submitted', submissionId, jobsTotal: plan.jobsTotal, alreadyValid: plan.alreadyValid, shared: plan.shared });
  }

  event(e: SubmissionEvent__Output, change: JobChange | undefined): void {
    this.emit(jobJson(e, change));
  }

  logLine(job: LogJob, line: string): void {
    this.emit({ type: 'log', jobId: job.jobId, drvPath: job.drvPath, name: job.name, line });
  }

  logNotice(job: LogJob, text: string): void {
    this.emit({ type: 'log-notice', jobId: job.jobId, drvPath: job.drvPath, name: job.name, text });
  }

  notice(text: string): void {
    this.emit({ type: 'notice', text });
  }

  copyBack(e: CopyBackEvent): void {
    if (e.kind === 'fetched') this.emit({ type: 'copied', ...e.fetched });
    else this.emit({ type: 'imported', paths: e.paths });
  }

  finish(report: FinalReport, submissionId: string): void {
    this.emit({
      type: 'summary',
      submissionId,
      ok: report.ok,
      counts: report.counts,
      outputs: report.outputs,
      failures: report.failures,
    });
  }

  close(): void {}
}
