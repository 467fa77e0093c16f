/**
 * `farm submit` on a pipe or in a log file: one line per step and per job state change on
 * stderr, build log lines as `<name>> …`, the summary line at the end; outputs on stdout.
 */
import type { Writable } from 'node:stream';
import type { Clock } from '@farm/common';
import type { SubmissionEvent__Output, SubmitResponse__Output } from '@farm/proto';
import type { LogJob } from '../client/build-logs.js';
import type { CopyBackEvent } from '../client/copy-back.js';
import { formatBytes } from '../client/durations.js';
import type { UploadEvent } from '../client/upload.js';
import type { EvaluatedRoot } from '../eval/index.js';
import type { JobChange, ProgressModel } from './model.js';
import { changeLine, summaryLine } from './render.js';
import type { SubmitReporter } from './reporter.js';
import { failureLines, outputLines, type FinalReport } from './report.js';

export class PlainReporter implements SubmitReporter {
  constructor(
    protected readonly stdout: Writable,
    protected readonly stderr: Writable,
    protected readonly model: ProgressModel,
    protected readonly clock: Clock,
  ) {}

  protected say(line: string): void {
    this.stderr.write(`${line}\n`);
  }

  step(text: string): void {
    this.say(`farm: ${text}`);
  }

  evaluated(roots: readonly EvaluatedRoot[]): void {
    this.say(`farm: ${roots.length} root derivation${roots.length === 1 ? '' : 's'}`);
  }

  bundle(derivations: number, sources: number): void {
    this.say(`farm: closure of ${derivations} derivation${derivations === 1 ? '' : 's'} and ${sources} source${sources === 1 ? '' : 's'}`);
  }

  upload(e: UploadEvent): void {
    if (e.kind === 'missing') {
      this.say(e.missing === 0 ? `farm: the farm has all ${e.total} paths already` : `farm: uploading ${e.missing} of ${e.total} paths (${formatBytes(e.bytes)})`);
    } else if (e.index === e.count) {
      this.say(`farm: uploaded ${e.count} path${e.count === 1 ? '' : 's'} (${formatBytes(e.doneBytes)})`);
    }
  }

  submitted(submissionId: string, plan: SubmitResponse__Output): void {
    this.say(`farm: submitted ${submissionId}: ${plan.jobsTotal} to build, ${plan.alreadyValid} already valid, ${plan.shared} shared with other submissions`);
  }

  event(_e: SubmissionEvent__Output, change: JobChange | undefined): void {
    if (change === undefined) return;
    const line = changeLine(change, this.clock.now());
    if (line !== undefined) this.say(line);
  }

  logLine(job: LogJob, line: string): void {
    this.say(`${job.name}> ${line}`);
  }

  logNotice(job: LogJob, text: string): void {
    this.say(`${job.name}> ${text}`);
  }

  notice(text: string): void {
    this.say(`farm: ${text}`);
  }

  copyBack(e: CopyBackEvent): void {
    if (e.kind === 'fetched') this.say(`farm: fetched ${e.fetched.path} (${formatBytes(e.fetched.narSize)})`);
    else this.say(`farm: imported ${e.paths.length} path${e.paths.length === 1 ? '' : 's'} into the local store`);
  }

  finish(report: FinalReport, _submissionId: string): void {
    this.close();
    this.say(summaryLine(report.counts));
    for (const l of failureLines(report.failures)) this.say(l);
    for (const l of outputLines(report.outputs)) this.stdout.write(`${l}\n`);
  }

  close(): void {}
}
