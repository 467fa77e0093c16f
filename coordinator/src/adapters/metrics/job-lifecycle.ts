/**
 * Turns the committed scheduler events (FarmService.onSchedulerEvents) into the lifecycle facts
 * metrics count: a job leased after waiting in the queue (ready → running, with how long it
 * waited), a job requeued after a failed attempt (running → ready: a retry), and leases lost
 * because their deadline passed or their agent went silent (read from the event's reason, which
 * the scheduler words as "lease of agent X expired" / "agent X was lost"; job-lifecycle.test.ts
 * drives the real Scheduler so that a change of wording fails a test rather than a dashboard).
 *
 * State: the last status and ready time of each unfinished job (dropped when it finishes), so
 * memory follows the live queue. A coordinator that restarted replayed its submissions before
 * this observer was attached: `seed` takes the jobs as the service has them then.
 * Pure: no I/O, no clock (times come from the events).
 */
import type { JobStatus, SchedulerEvent } from '../../core/scheduler-types.js';

export type LeaseLossCause = 'deadline' | 'agent-lost';

export interface LifecycleSink {
  /** The job was leased after `waitMs` in the ready queue. */
  assigned(drvPath: string, waitMs: number): void;
  /** A failed attempt put the job back in the queue under a new epoch. */
  retried(drvPath: string): void;
  /** The job's lease was lost (then retried, or given up on). */
  leaseLost(cause: LeaseLossCause): void;
}

export interface SeedJob {
  readonly jobId: string;
  readonly status: JobStatus;
  /** When it last became ready (0 = unknown). */
  readonly readyMs: number;
}

interface Tracked {
  status: JobStatus;
  readyAt: number;
}

const FINISHED: ReadonlySet<JobStatus> = new Set(['succeeded', 'failed', 'dependency-failed', 'cancelled']);

export function leaseLossCause(reason: string | undefined): LeaseLossCause | undefined {
  if (reason === undefined) return undefined;
  if (/\blease of agent \S+ expired\b/.test(reason)) return 'deadline';
  if (/\bagent \S+ was lost\b/.test(reason)) return 'agent-lost';
  return undefined;
}

export class JobLifecycle {
  private readonly jobs = new Map<string, Tracked>();

  constructor(private readonly sink: LifecycleSink) {}

  /** Jobs of this run before the observer was attached (unfinished ones are kept). */
  seed(jobs: Iterable<SeedJob>): void {
    for (const j of jobs) {
      if (!FINISHED.has(j.status)) this.jobs.set(j.jobId, { status: j.status, readyAt: j.readyMs });
    }
  }

  observe(events: readonly SchedulerEvent[]): void {
    for (const ev of events) {
      // 'already-valid' tells a submission about a root; the job itself did not change.
      if (ev.type !== 'job' || ev.status === 'already-valid') continue;
      const prev = this.jobs.get(ev.jobId);
      const was = prev?.status;
      if (ev.status === 'running' && was === 'ready' && prev !== undefined && prev.readyAt > 0) {
        this.sink.assigned(ev.drvPath, Math.max(0, ev.at - prev.readyAt));
      }
      if (was === 'running' && (ev.status === 'ready' || ev.status === 'failed')) {
        if (ev.status === 'ready') this.sink.retried(ev.drvPath);
        const cause = leaseLossCause(ev.reason);
        if (cause !== undefined) this.sink.leaseLost(cause);
      }
      if (FINISHED.has(ev.status)) {
        this.jobs.delete(ev.jobId);
        continue;
      }
      const readyAt = ev.status === 'ready' ? (was === 'ready' ? (prev?.readyAt ?? ev.at) : ev.at) : 0;
      this.jobs.set(ev.jobId, { status: ev.status, readyAt });
    }
  }

  /** Unfinished jobs tracked (for tests). */
  get size(): number {
    return this.jobs.size;
  }
}
