/**
 * The journal turns scheduler events into durable state and live notifications, in this order:
 * (1) synchronously, the events are mapped to rows — one SubmissionEvent per live submission a
 * job event belongs to, with the next sequence number of that submission; the job's row (epoch,
 * status, times); the submission's counters — (2) the batch is committed, commits chained so
 * they land in call order, (3) only then are watchers, job listeners and "work may be
 * available" listeners told. So nothing is ever shown or acknowledged before it is on disk, and
 * Watch sequences have no gaps and no reordering.
 *
 * Done submissions get no further events (a job restarted for a newer submission still lists the
 * older one). Memory: one status per (live submission, job), dropped when the submission ends.
 */
import type { Logger } from '@farm/common';
import type { JobEvent, JobStatus, SchedulerEvent, SubmissionDoneEvent } from '../core/scheduler-types.js';
import type { BuildRow, CoordinatorState, EventRow, JobRow, SubmissionRow } from './coordinator-state.js';
import { jobStateName } from './convert.js';

type Mutable<T> = { -readonly [K in keyof T]: T[K] };

export interface LiveSubmission {
  readonly row: Mutable<SubmissionRow>;
  /** Latest status of each of its jobs (until it is done). */
  readonly jobs: Map<string, JobStatus>;
  /** Set by cancel: its final event says so. */
  cancelled: boolean;
}

export interface RecordOptions {
  /** Route every job event to this submission too (cancel: the scheduler already dropped it). */
  readonly alsoTo?: string;
  /** Extra rows committed in the same transaction. */
  readonly builds?: readonly BuildRow[];
  readonly submissions?: readonly SubmissionRow[];
  /** Job events to persist as job rows but not show on Watch (replay noise). */
  readonly quiet?: (event: JobEvent) => boolean;
}

export type EventListener = (event: EventRow) => void;
/** Every committed batch of scheduler events, in commit order (metrics, traces, the dashboard). */
export type SchedulerEventsListener = (events: readonly SchedulerEvent[]) => void;

export class Journal {
  readonly live = new Map<string, LiveSubmission>();
  /** This run's view of every job it has seen, by drv path. */
  readonly jobs = new Map<string, Mutable<JobRow>>();
  /** drv path → output name → path, for `outputs` of succeeded events and the BUILT check. */
  readonly outputsOf = new Map<string, Record<string, string>>();
  private readonly watchers = new Map<string, Set<EventListener>>();
  private readonly jobListeners = new Map<string, Set<() => void>>();
  private readonly workListeners = new Set<() => void>();
  private readonly eventsListeners = new Set<SchedulerEventsListener>();
  private chain: Promise<void> = Promise.resolve();

  constructor(
    private readonly state: CoordinatorState,
    private readonly logger: Logger,
  ) {}

  /** Maps, commits (after everything recorded before) and then publishes. */
  record(events: readonly SchedulerEvent[], options: RecordOptions = {}): Promise<void> {
    const rows: EventRow[] = [];
    const jobRows = new Map<string, JobRow>();
    const subRows = new Map<string, SubmissionRow>();
    for (const s of options.submissions ?? []) subRows.set(s.id, s);
    const touchedJobs = new Set<string>();
    const dirty = new Set<LiveSubmission>();
    let workMayBeAvailable = false;
    for (const ev of events) {
      if (ev.type === 'job') {
        // 'already-valid' is what a submission is told about a root; the job itself is unchanged.
        if (ev.status !== 'already-valid') jobRows.set(ev.drvPath, this.updateJob(ev));
        touchedJobs.add(ev.jobId);
        // New ready work, or a finished job that frees a slot of its agent (whose long poll may be
        // parked because the coordinator still counted that job as running): wake the polls.
        if (ev.status !== 'running' && ev.status !== 'waiting') workMayBeAvailable = true;
        const quiet = options.quiet?.(ev) === true;
        const targets = new Set(ev.submissions);
        if (options.alsoTo !== undefined) targets.add(options.alsoTo);
        for (const id of targets) {
          const sub = this.live.get(id);
          if (sub === undefined || sub.row.done) continue;
          const prev = sub.jobs.get(ev.jobId);
          sub.jobs.set(ev.jobId, ev.status);
          if (prev !== ev.status) count(sub, prev, ev.status);
          if (!quiet) rows.push(this.eventRow(sub, ev));
          dirty.add(sub);
        }
      } else {
        const sub = this.live.get(ev.submissionId);
        if (sub === undefined || sub.row.done) continue;
        rows.push(this.finalRow(sub, ev));
        sub.row.done = true;
        sub.jobs.clear();
        dirty.add(sub);
      }
    }
    for (const sub of dirty) subRows.set(sub.row.id, { ...sub.row });
    const batch = { events: rows, jobs: [...jobRows.values()], submissions: [...subRows.values()], builds: options.builds ?? [] };
    // Commits are issued at once (the state commits them in order, several per fsync); only
    // publishing waits for the ones before, so listeners see events in commit order.
    const committed = this.state.commit(batch);
    // The chain itself never rejects, so one failed commit does not poison the ones after it.
    this.chain = this.chain.then(() => committed).then(
      () => this.publish(events, rows, touchedJobs, workMayBeAvailable),
      (e: unknown) => this.logger.error({ err: e }, 'committing coordinator state failed'),
    );
    return committed;
  }

  /** Resolves when everything recorded so far is committed (or failed). */
  flushed(): Promise<void> {
    return this.chain;
  }

  watch(submissionId: string, listener: EventListener): () => void {
    let set = this.watchers.get(submissionId);
    if (set === undefined) this.watchers.set(submissionId, (set = new Set()));
    set.add(listener);
    return () => {
      set.delete(listener);
      if (set.size === 0 && this.watchers.get(submissionId) === set) this.watchers.delete(submissionId);
    };
  }

  onJobChange(jobId: string, listener: () => void): () => void {
    let set = this.jobListeners.get(jobId);
    if (set === undefined) this.jobListeners.set(jobId, (set = new Set()));
    set.add(listener);
    return () => {
      set.delete(listener);
      if (set.size === 0 && this.jobListeners.get(jobId) === set) this.jobListeners.delete(jobId);
    };
  }

  /** Calls `listener` with each batch of scheduler events once it is committed. */
  onCommitted(listener: SchedulerEventsListener): () => void {
    this.eventsListeners.add(listener);
    return () => void this.eventsListeners.delete(listener);
  }

  onWorkAvailable(listener: () => void): () => void {
    this.workListeners.add(listener);
    return () => void this.workListeners.delete(listener);
  }

  notifyWork(): void {
    for (const l of [...this.workListeners]) l();
  }

  /** Wakes every watcher and job listener (the service is closing; they check and end). */
  wakeAll(): void {
    this.notifyWork();
    for (const set of this.jobListeners.values()) for (const l of [...set]) l();
  }

  private publish(events: readonly SchedulerEvent[], rows: readonly EventRow[], jobs: ReadonlySet<string>, work: boolean): void {
    if (events.length > 0) for (const l of [...this.eventsListeners]) this.safely(() => l(events));
    for (const row of rows) {
      for (const l of [...(this.watchers.get(row.submissionId) ?? [])]) this.safely(() => l(row));
    }
    for (const jobId of jobs) for (const l of [...(this.jobListeners.get(jobId) ?? [])]) this.safely(l);
    if (work) this.notifyWork();
  }

  private safely(fn: () => void): void {
    try {
      fn();
    } catch (e) {
      this.logger.error({ err: e }, 'an event listener failed');
    }
  }

  private updateJob(ev: JobEvent): JobRow {
    const prev = this.jobs.get(ev.drvPath) ?? this.state.getJob(ev.drvPath);
    const row: Mutable<JobRow> = {
      drvPath: ev.drvPath,
      jobId: ev.jobId,
      epoch: Math.max(prev?.epoch ?? 0, ev.epoch),
      status: ev.status,
      agentId: ev.agentId ?? '',
      reason: ev.reason ?? '',
      readyMs: ev.status === 'ready' && prev?.status !== 'ready' ? ev.at : (prev?.readyMs ?? 0),
      assignedMs: ev.status === 'running' ? ev.at : (prev?.assignedMs ?? 0),
      runEpoch: ev.status === 'running' ? ev.epoch : (prev?.runEpoch ?? 0),
    };
    this.jobs.set(ev.drvPath, row);
    return { ...row };
  }

  private eventRow(sub: LiveSubmission, ev: JobEvent): EventRow {
    return {
      sequence: ++sub.row.lastSeq,
      submissionId: sub.row.id,
      jobId: ev.jobId,
      drvPath: ev.drvPath,
      state: jobStateName(ev.status),
      agentId: ev.agentId ?? '',
      reason: ev.reason ?? '',
      timeMs: ev.at,
      outputs: ev.status === 'succeeded' ? { ...(this.outputsOf.get(ev.drvPath) ?? {}) } : {},
      final: false,
    };
  }

  private finalRow(sub: LiveSubmission, ev: SubmissionDoneEvent): EventRow {
    return {
      sequence: ++sub.row.lastSeq,
      submissionId: sub.row.id,
      jobId: '',
      drvPath: '',
      state: 'JOB_STATE_UNSPECIFIED',
      agentId: '',
      reason: summary(sub),
      timeMs: ev.at,
      outputs: {},
      final: true,
    };
  }
}

const FAILED: ReadonlySet<JobStatus> = new Set(['failed', 'dependency-failed', 'cancelled']);

/** Keeps the submission's succeeded/failed counters in step with one job's status change: O(1). */
function count(sub: LiveSubmission, prev: JobStatus | undefined, next: JobStatus): void {
  if (prev === 'succeeded') sub.row.succeeded--;
  else if (prev !== undefined && FAILED.has(prev)) sub.row.failed--;
  if (next === 'succeeded') sub.row.succeeded++;
  else if (FAILED.has(next)) sub.row.failed++;
}

/** "12 succeeded, 1 failed" (+ dependency failures, cancellations, already valid, when any). */
export function summary(sub: LiveSubmission): string {
  const count = (s: JobStatus) => [...sub.jobs.values()].filter((x) => x === s).length;
  const parts = [`${count('succeeded')} succeeded`, `${count('failed')} failed`];
  const dep = count('dependency-failed');
  if (dep > 0) parts.push(`${dep} dependency failed`);
  const cancelled = count('cancelled');
  if (cancelled > 0) parts.push(`${cancelled} cancelled`);
  if (sub.row.alreadyValid > 0) parts.push(`${sub.row.alreadyValid} already valid`);
  return `${sub.cancelled ? 'cancelled: ' : ''}${parts.join(', ')}`;
}
