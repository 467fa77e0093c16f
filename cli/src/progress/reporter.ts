/**
 * What `farm submit` tells its user, as one interface with three faces: a live terminal view
 * (tty-reporter), one line per change for pipes and logs (plain-reporter), and JSON lines on
 * stdout (json-reporter). The submit flow calls these and never writes to a stream itself.
 */
import type { SubmissionEvent__Output, SubmitResponse__Output } from '@farm/proto';
import type { LogJob } from '../client/build-logs.js';
import type { CopyBackEvent } from '../client/copy-back.js';
import type { UploadEvent } from '../client/upload.js';
import type { EvaluatedRoot } from '../eval/index.js';
import type { JobChange } from './model.js';
import type { FinalReport } from './report.js';

export interface SubmitReporter {
  /** A step begins: "evaluating .#all". */
  step(text: string): void;
  evaluated(roots: readonly EvaluatedRoot[]): void;
  bundle(derivations: number, sources: number): void;
  upload(e: UploadEvent): void;
  submitted(submissionId: string, plan: SubmitResponse__Output): void;
  /** Every Watch event, with the change it made to the model (if any). */
  event(e: SubmissionEvent__Output, change: JobChange | undefined): void;
  logLine(job: LogJob, line: string): void;
  logNotice(job: LogJob, text: string): void;
  /** Reconnects, warnings. */
  notice(text: string): void;
  copyBack(e: CopyBackEvent): void;
  /** The end: outputs on stdout, failures on stderr (or one JSON summary). */
  finish(report: FinalReport, submissionId: string): void;
  /** Stops any drawing (also on errors); idempotent. */
  close(): void;
}

export function jobJson(e: SubmissionEvent__Output, change: JobChange | undefined): Record<string, unknown> {
  return {
    type: e.jobId === '' && e.drvPath === '' ? 'final' : 'job',
    sequence: Number(e.sequence),
    submissionId: e.submissionId,
    jobId: e.jobId,
    drvPath: e.drvPath,
    ...(change !== undefined ? { name: change.job.name, phase: change.job.phase } : {}),
    state: e.state,
    agentId: e.agentId,
    reason: e.reason,
    timeMs: Number(e.timeMs),
    outputs: e.outputs,
    final: e.final,
  };
}
