/**
 * Text for the progress of a submission (pure): the summary line, the one-line-per-change form
 * for logs and pipes, and the rows of the live terminal view.
 */
import { formatElapsed } from '../client/durations.js';
import type { JobChange, JobPhase, JobView, ProgressCounts, ProgressModel } from './model.js';

/** `12/47 built · 3 running · 30 queued · 1 failed · 2 already valid` (+ dependency failed, cancelled when any). */
export function summaryLine(c: ProgressCounts): string {
  const parts = [`${c.built}/${c.total} built`, `${c.running} running`, `${c.queued} queued`, `${c.failed} failed`];
  if (c.dependencyFailed > 0) parts.push(`${c.dependencyFailed} dependency failed`);
  if (c.cancelled > 0) parts.push(`${c.cancelled} cancelled`);
  parts.push(`${c.alreadyValid} already valid`);
  return parts.join(' · ');
}

const LABEL: Readonly<Record<JobPhase, string>> = {
  queued: 'queued',
  running: 'running',
  done: 'built',
  failed: 'failed',
  'dependency-failed': 'dep-failed',
  cancelled: 'cancelled',
  'already-valid': 'valid',
};

const LABEL_WIDTH = Math.max(...Object.values(LABEL).map((l) => l.length));

/** The first line of a reason (failure reasons can carry a log tail). */
export function firstLine(text: string): string {
  const nl = text.indexOf('\n');
  return (nl >= 0 ? text.slice(0, nl) : text).trim();
}

/** What to say about a job after its name. */
export function jobDetail(job: JobView, now: number): string {
  switch (job.phase) {
    case 'running':
      return [job.agentId !== '' ? `on ${job.agentId}` : '', formatElapsed(now - (job.startedAt ?? job.since))].filter((s) => s !== '').join('  ');
    case 'done':
      return job.startedAt !== undefined ? `in ${formatElapsed(job.since - job.startedAt)}${job.agentId !== '' ? ` on ${job.agentId}` : ''}` : '';
    case 'queued':
      return job.reason !== '' ? `waiting: ${firstLine(job.reason)}` : '';
    default:
      return firstLine(job.reason);
  }
}

/** One line for a change (non-TTY output); undefined if the change is not worth a line. */
export function changeLine(change: JobChange, now: number): string | undefined {
  const { job } = change;
  // A job going from waiting to ready without a reason is still just "queued".
  if (!change.phaseChanged && job.phase === 'queued' && job.reason === '') return undefined;
  if (change.previous === undefined && job.phase === 'queued' && job.reason === '') return `${LABEL.queued.padEnd(LABEL_WIDTH)} ${job.name}`;
  const detail = jobDetail(job, now);
  return `${LABEL[job.phase].padEnd(LABEL_WIDTH)} ${job.name}${detail !== '' ? (job.phase === 'running' || job.phase === 'done' ? ` ${detail}` : `: ${detail}`) : ''}`;
}

export interface RowOptions {
  readonly now: number;
  /** Terminal width; lines are cut to width - 1 so that they never wrap. */
  readonly width: number;
  /** Job rows at most (the summary line comes on top of these). */
  readonly maxRows: number;
}

/**
 * The live view: up to maxRows job rows, most interesting first (running oldest first, then
 * failures, then jobs waiting with a reason such as missing capacity, then the most recently
 * built), followed by the summary line.
 */
export function liveRows(model: ProgressModel, o: RowOptions): string[] {
  const jobs = model.jobs();
  const running = jobs.filter((j) => j.phase === 'running').sort((a, b) => (a.startedAt ?? a.since) - (b.startedAt ?? b.since));
  const failed = jobs.filter((j) => j.phase === 'failed').sort((a, b) => b.since - a.since);
  const depFailed = jobs.filter((j) => j.phase === 'dependency-failed' || j.phase === 'cancelled').sort((a, b) => b.since - a.since);
  const waiting = jobs.filter((j) => j.phase === 'queued' && j.reason !== '').sort((a, b) => a.since - b.since);
  const recent = jobs.filter((j) => j.phase === 'done').sort((a, b) => b.since - a.since);

  const rows: JobView[] = [];
  let hiddenRunning = 0;
  if (running.length > o.maxRows) {
    rows.push(...running.slice(0, o.maxRows - 1));
    hiddenRunning = running.length - rows.length;
  } else {
    rows.push(...running);
    for (const group of [failed, waiting, depFailed, recent]) {
      for (const j of group) if (rows.length < o.maxRows) rows.push(j);
    }
  }
  const nameWidth = Math.min(40, Math.max(0, ...rows.map((j) => j.name.length)));
  const lines = rows.map((j) => {
    const detail = jobDetail(j, o.now);
    return `${LABEL[j.phase].padEnd(LABEL_WIDTH)} ${j.name.padEnd(nameWidth)}${detail !== '' ? `  ${detail}` : ''}`;
  });
  if (hiddenRunning > 0) lines.push(`… and ${hiddenRunning} more running`);
  lines.push(summaryLine(model.counts()));
  return lines.map((l) => fit(l, o.width));
}

/** Cuts a line to the terminal width (leaving the last column free so the line never wraps). */
export function fit(line: string, width: number): string {
  const max = Math.max(10, width - 1);
  return line.length <= max ? line : `${line.slice(0, max - 1)}…`;
}
