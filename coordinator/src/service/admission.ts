/**
 * Admission of submissions into the scheduler, for a new Submit and for the replay after a
 * restart. A new submission is told where every job of its closure stands (created jobs through
 * the scheduler's events; jobs shared with earlier submissions through a snapshot of their state;
 * roots whose outputs are already valid as ALREADY_VALID). A replayed one keeps its event log and
 * admission figures, and is told only what the restart changed.
 */
import { FarmError, type Clock, type Logger } from '@farm/common';
import { parseStorePath } from '@farm/nix';
import type { Scheduler } from '../core/scheduler.js';
import type { JobEvent, SchedulerEvent, SubmitOutcome } from '../core/scheduler-types.js';
import type { FarmStore } from '../ports/farm-store.js';
import { jobStatusOf } from './convert.js';
import type { CoordinatorState, EventRow, SubmissionRow } from './coordinator-state.js';
import { loadGraph, type LoadedGraph } from './derivation-graph.js';
import { asFarmError, farmErrors } from './errors.js';
import type { Journal, LiveSubmission } from './journal.js';

export interface AdmissionDeps {
  readonly scheduler: Scheduler;
  readonly journal: Journal;
  readonly state: CoordinatorState;
  readonly store: FarmStore;
  readonly clock: Clock;
  readonly logger: Logger;
}

export class Admission {
  private readonly scheduler: Scheduler;
  private readonly journal: Journal;
  private readonly state: CoordinatorState;
  private readonly store: FarmStore;
  private readonly clock: Clock;
  private readonly logger: Logger;

  constructor(deps: AdmissionDeps) {
    this.scheduler = deps.scheduler;
    this.journal = deps.journal;
    this.state = deps.state;
    this.store = deps.store;
    this.clock = deps.clock;
    this.logger = deps.logger;
  }

  /**
   * Hands a submission to the scheduler; returns the live submission and the events to record
   * (the caller records them). `replaying` (restart): the submission keeps its admission figures
   * and what it already saw of each job — a job that succeeded before the restart is "already
   * valid" to the fresh scheduler but stays succeeded for this submission.
   */
  admit(row: SubmissionRow, loaded: LoadedGraph, replaying: boolean): { outcome: SubmitOutcome; sub: LiveSubmission; events: SchedulerEvent[] } {
    for (const [drv, outs] of loaded.outputs) this.journal.outputsOf.set(drv, outs);
    let outcome: SubmitOutcome;
    try {
      outcome = this.scheduler.submit(
        { submissionId: row.id, roots: row.roots, priority: row.priority, client: row.client },
        loaded.graph,
        (d) => loaded.valid.has(d),
      );
    } catch (e) {
      throw new FarmError('INTERNAL', `admitting submission ${row.id} failed: ${(e as Error).message}`, {}, { cause: e });
    }
    const sub: LiveSubmission = {
      row: replaying ? { ...row } : { ...row, jobsTotal: outcome.jobs, alreadyValid: outcome.alreadyValid, shared: outcome.shared },
      jobs: new Map(),
      cancelled: false,
    };
    if (replaying) {
      for (const e of this.state.events(row.id, 0)) {
        if (!e.final && e.jobId !== '' && e.state !== 'JOB_STATE_ALREADY_VALID') sub.jobs.set(e.jobId, jobStatusOf(e.state));
      }
    }
    this.journal.live.set(row.id, sub);
    const now = this.clock.now();
    const events: SchedulerEvent[] = [];
    if (!replaying) {
      for (const root of row.roots) {
        if (loaded.valid.has(root)) events.push(alreadyValidEvent(root, row.id, now));
      }
    }
    const jobEvents = outcome.events.filter((e): e is JobEvent => e.type === 'job');
    events.push(...jobEvents);
    // Jobs shared with earlier submissions caused no event: tell this one where they stand.
    const announced = new Set(jobEvents.map((e) => e.jobId));
    for (const drv of loaded.graph.keys()) {
      if (loaded.valid.has(drv)) continue;
      const jobId = this.scheduler.jobIdOf(drv);
      if (jobId === undefined || announced.has(jobId)) continue;
      const current = this.scheduler.jobStatus(jobId);
      if (current !== undefined) events.push({ ...current, submissions: [row.id] });
    }
    events.push(...outcome.events.filter((e) => e.type === 'submission-done'));
    return { outcome, sub, events };
  }

  /**
   * Restart: every submission that was not done goes back into a fresh scheduler, in creation
   * order and under its own id; then recorded build failures are restored (after all of them,
   * so a failure several submissions saw is not undone by the next admission restarting the
   * job). Watchers are told only what differs from the persisted state: per (job, submission)
   * the last replay event, unless it equals the job's persisted status and reason.
   */
  async replay(): Promise<void> {
    const pending = this.state.listSubmissions().filter((s) => !s.done);
    if (pending.length === 0) return;
    const persisted = new Map(this.state.listJobs().map((j) => [j.drvPath, j]));
    const loadedAll: { row: SubmissionRow; loaded: LoadedGraph }[] = [];
    for (const row of pending) {
      try {
        loadedAll.push({ row, loaded: await farmErrors(() => loadGraph(this.store, row.roots)) });
      } catch (e) {
        this.logger.error({ err: e, submissionId: row.id }, 'a persisted submission could not be restored');
        await this.abandon(row, `could not be restored after a restart: ${(asFarmError(e) as Error).message}`);
      }
    }
    const events: SchedulerEvent[] = [];
    const rows: SubmissionRow[] = [];
    for (const { row, loaded } of loadedAll) {
      const admitted = this.admit(row, loaded, true);
      events.push(...admitted.events);
      rows.push(admitted.sub.row);
    }
    const restored = new Set<string>();
    for (const { loaded } of loadedAll) {
      for (const drv of loaded.graph.keys()) {
        const before = persisted.get(drv);
        const jobId = this.scheduler.jobIdOf(drv);
        if (before?.status !== 'failed' || jobId === undefined || restored.has(drv)) continue;
        restored.add(drv);
        events.push(...this.scheduler.restoreFailure(jobId, before.reason));
      }
    }
    const lastOf = new Map<string, JobEvent>();
    const done: SchedulerEvent[] = [];
    for (const e of events) {
      if (e.type !== 'job') done.push(e);
      else for (const sub of e.submissions) lastOf.set(`${e.jobId} ${sub}`, { ...e, submissions: [sub] });
    }
    const changed = [...lastOf.values()].filter((e) => {
      const before = persisted.get(e.drvPath);
      return before === undefined || before.status !== e.status || before.reason !== (e.reason ?? '');
    });
    // Jobs the restart did not change are still this run's jobs (status views, running counts).
    for (const { loaded } of loadedAll) {
      for (const drv of loaded.graph.keys()) {
        const before = persisted.get(drv);
        if (before !== undefined && !this.journal.jobs.has(drv) && this.scheduler.jobIdOf(drv) !== undefined) this.journal.jobs.set(drv, { ...before });
      }
    }
    await this.journal.record([...changed, ...done], { submissions: rows });
    this.logger.info({ submissions: loadedAll.length, restoredFailures: restored.size, announced: changed.length }, 'persisted submissions restored');
  }

  /** Ends a persisted submission that cannot run any more, with a final event saying why. */
  private async abandon(row: SubmissionRow, reason: string): Promise<void> {
    const sequence = row.lastSeq + 1;
    const final: EventRow = {
      sequence,
      submissionId: row.id,
      jobId: '',
      drvPath: '',
      state: 'JOB_STATE_UNSPECIFIED',
      agentId: '',
      reason,
      timeMs: this.clock.now(),
      outputs: {},
      final: true,
    };
    await this.state.commit({ submissions: [{ ...row, done: true, lastSeq: sequence }], events: [final] });
  }
}

function alreadyValidEvent(drvPath: string, submissionId: string, at: number): JobEvent {
  return { type: 'job', jobId: parseStorePath(drvPath).hashPart, drvPath, status: 'already-valid', epoch: 0, submissions: [submissionId], at, reason: 'outputs already valid in the farm store' };
}
