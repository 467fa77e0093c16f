/**
 * `farm submit` on a terminal: finished steps and build log lines scroll by above a live block
 * that shows the current step, then the jobs (at most MAX_ROWS rows) and the summary line,
 * redrawn in place. Outputs go to stdout at the end, after the block is gone.
 */
import type { Writable } from 'node:stream';
import type { Clock } from '@farm/common';
import type { SubmissionEvent__Output, SubmitResponse__Output } from '@farm/proto';
import type { LogJob } from '../client/build-logs.js';
import type { CopyBackEvent } from '../client/copy-back.js';
import { formatBytes } from '../client/durations.js';
import type { UploadEvent } from '../client/upload.js';
import { LiveView } from './live-view.js';
import type { JobChange, ProgressModel } from './model.js';
import { PlainReporter } from './plain-reporter.js';
import { changeLine, fit, liveRows } from './render.js';

export const MAX_ROWS = 12;

export class TtyReporter extends PlainReporter {
  private readonly view: LiveView;
  private current: string | undefined;
  private watching = false;

  constructor(
    stdout: Writable,
    stderr: Writable & { columns?: number },
    model: ProgressModel,
    clock: Clock,
    options: { tickMs?: number; minIntervalMs?: number } = {},
  ) {
    super(stdout, stderr, model, clock);
    this.view = new LiveView(stderr, { render: () => this.render(), ...options });
  }

  private width(): number {
    // A pseudo-terminal without a window size reports 0 columns.
    const columns = (this.stderr as { columns?: number }).columns ?? 0;
    return columns > 0 ? columns : Number(process.env['COLUMNS']) || 80;
  }

  private render(): string[] {
    if (this.watching) return liveRows(this.model, { now: this.clock.now(), width: this.width(), maxRows: MAX_ROWS });
    return this.current !== undefined ? [fit(this.current, this.width())] : [];
  }

  protected override say(line: string): void {
    this.view.printAbove(`${line}\n`);
  }

  override step(text: string): void {
    this.current = `farm: ${text}…`;
    this.view.redraw();
  }

  override upload(e: UploadEvent): void {
    if (e.kind === 'missing') {
      super.upload(e);
      return;
    }
    this.current = `farm: uploading ${e.index}/${e.count} (${formatBytes(e.doneBytes)} of ${formatBytes(e.totalBytes)})`;
    if (e.index === e.count) {
      this.current = undefined;
      super.upload(e);
    } else {
      this.view.invalidate();
    }
  }

  override submitted(submissionId: string, plan: SubmitResponse__Output): void {
    this.current = undefined;
    this.watching = true;
    super.submitted(submissionId, plan);
  }

  override event(_e: SubmissionEvent__Output, change: JobChange | undefined): void {
    if (change === undefined) return;
    // Failures scroll up so they stay visible after the block has moved on.
    if (change.phaseChanged && (change.job.phase === 'failed' || change.job.phase === 'dependency-failed')) {
      const line = changeLine(change, this.clock.now());
      if (line !== undefined) this.say(line);
    }
    this.view.invalidate();
  }

  override logLine(job: LogJob, line: string): void {
    this.say(`${job.name}> ${line}`);
  }

  override copyBack(e: CopyBackEvent): void {
    this.watching = false;
    if (e.kind === 'fetched') {
      this.current = `farm: fetched ${e.fetched.path}`;
      this.view.invalidate();
    } else {
      this.current = undefined;
      super.copyBack(e);
    }
  }

  override close(): void {
    this.view.close();
  }
}
