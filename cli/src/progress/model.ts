/**
 * The progress of one submission as the CLI shows it, built from Watch events alone (pure: the
 * clock is injected, nothing is printed here).
 *
 * Invariants: one JobView per job id, holding the state of the newest event seen for it (events
 * are applied in sequence order; a replayed or older sequence is ignored); `counts()` always
 * adds up: built + running + queued + failed + dependencyFailed + cancelled = total, where
 * total is the plan's jobs_total or, if events name more jobs than that, their number. Jobs the
 * plan announced but no event has named yet are queued.
 */
import type { Clock } from '@farm/common';
import { derivationNameFromPath } from '@farm/nix';
import type { JobState__Output, SubmissionEvent__Output, SubmitResponse__Output } from '@farm/proto';

export type JobPhase = 'queued' | 'running' | 'done' | 'failed' | 'dependency-failed' | 'cancelled' | 'already-valid';

export const TERMINAL_PHASES: ReadonlySet<JobPhase> = new Set(['done', 'failed', 'dependency-failed', 'cancelled', 'already-valid']);
export const FAILED_PHASES: ReadonlySet<JobPhase> = new Set(['failed', 'dependency-failed', 'cancelled']);

export function phaseOf(state: JobState__Output | string): JobPhase {
  switch (state) {
    case 'JOB_STATE_RUNNING':
      return 'running';
    case 'JOB_STATE_SUCCEEDED':
      return 'done';
    case 'JOB_STATE_FAILED':
      return 'failed';
    case 'JOB_STATE_DEPENDENCY_FAILED':
      return 'dependency-failed';
    case 'JOB_STATE_CANCELLED':
      return 'cancelled';
    case 'JOB_STATE_ALREADY_VALID':
      return 'already-valid';
    default:
      return 'queued';
  }
}

export interface JobView {
  readonly jobId: string;
  readonly drvPath: string;
  /** The derivation name (`hello-2.12`), from the drv path. */
  readonly name: string;
  readonly state: string;
  readonly phase: JobPhase;
  readonly agentId: string;
  readonly reason: string;
  readonly outputs: Readonly<Record<string, string>>;
  /** Local clock time of the last phase change. */
  readonly since: number;
  /** Local clock time the current run started (phase running, or the run that ended in done/failed). */
  readonly startedAt?: number;
}

export interface JobChange {
  readonly job: JobView;
  readonly previous?: JobView;
  /** Whether the phase changed (as opposed to only the reason or the agent). */
  readonly phaseChanged: boolean;
}

export interface ProgressCounts {
  readonly total: number;
  readonly built: number;
  readonly running: number;
  readonly queued: number;
  readonly failed: number;
  readonly dependencyFailed: number;
  readonly cancelled: number;
  readonly alreadyValid: number;
  readonly shared: number;
}

export interface Plan {
  readonly jobsTotal: number;
  readonly alreadyValid: number;
  readonly shared: number;
}

export function planOf(r: Pick<SubmitResponse__Output, 'jobsTotal' | 'alreadyValid' | 'shared'>): Plan {
  return { jobsTotal: r.jobsTotal, alreadyValid: r.alreadyValid, shared: r.shared };
}

export class ProgressModel {
  private readonly byJob = new Map<string, JobView>();
  private plan: Plan = { jobsTotal: 0, alreadyValid: 0, shared: 0 };
  private lastSequence = -1n;
  private finalEvent: SubmissionEvent__Output | undefined;

  constructor(private readonly clock: Clock) {}

  setPlan(plan: Plan): void {
    this.plan = plan;
  }

  /** The highest sequence applied (so a reconnecting Watch asks for the next one); 0 if none. */
  get sequence(): bigint {
    return this.lastSequence < 0n ? 0n : this.lastSequence;
  }

  get finished(): boolean {
    return this.finalEvent !== undefined;
  }

  /** The reason of the final event ("12 succeeded, 1 failed"), once it has arrived. */
  get finalReason(): string | undefined {
    return this.finalEvent?.reason;
  }

  /**
   * Applies one event. Returns the job's change, or undefined when the event changes nothing
   * visible (a replay, the same state again, or a final event that names no job).
   */
  apply(event: SubmissionEvent__Output): JobChange | undefined {
    const seq = BigInt(event.sequence === '' ? '0' : event.sequence);
    if (seq !== 0n && seq <= this.lastSequence) return undefined;
    if (seq > this.lastSequence) this.lastSequence = seq;
    if (event.final) this.finalEvent = event;
    if (event.jobId === '' && event.drvPath === '') return undefined;
    const key = event.jobId !== '' ? event.jobId : event.drvPath;
    const previous = this.byJob.get(key);
    const phase = phaseOf(event.state);
    const now = this.clock.now();
    const phaseChanged = previous?.phase !== phase;
    if (previous !== undefined && !phaseChanged && previous.reason === event.reason && previous.agentId === event.agentId && previous.state === event.state) {
      return undefined;
    }
    const drvPath = event.drvPath !== '' ? event.drvPath : (previous?.drvPath ?? '');
    // A run's start is kept while it runs and into the state it ended in ("built in 0:12").
    let startedAt: number | undefined;
    if (phase === 'running') startedAt = phaseChanged ? now : previous?.startedAt;
    else if (TERMINAL_PHASES.has(phase) && previous?.phase === 'running') startedAt = previous.startedAt;
    else if (!phaseChanged) startedAt = previous?.startedAt;
    const job: JobView = {
      jobId: event.jobId !== '' ? event.jobId : (previous?.jobId ?? ''),
      drvPath,
      name: nameOf(drvPath, key),
      state: event.state,
      phase,
      agentId: event.agentId !== '' ? event.agentId : phase === 'running' || TERMINAL_PHASES.has(phase) ? (previous?.agentId ?? '') : '',
      reason: event.reason,
      outputs: Object.keys(event.outputs).length > 0 ? { ...event.outputs } : (previous?.outputs ?? {}),
      since: phaseChanged ? now : (previous?.since ?? now),
      ...(startedAt !== undefined ? { startedAt } : {}),
    };
    this.byJob.set(key, job);
    return { job, ...(previous !== undefined ? { previous } : {}), phaseChanged };
  }

  jobs(): JobView[] {
    return [...this.byJob.values()];
  }

  job(jobIdOrDrv: string): JobView | undefined {
    return this.byJob.get(jobIdOrDrv) ?? [...this.byJob.values()].find((j) => j.drvPath === jobIdOrDrv);
  }

  counts(): ProgressCounts {
    let built = 0;
    let running = 0;
    let failed = 0;
    let dependencyFailed = 0;
    let cancelled = 0;
    let valid = 0;
    let seen = 0;
    for (const j of this.byJob.values()) {
      if (j.phase === 'already-valid') {
        valid++;
        continue;
      }
      seen++;
      if (j.phase === 'done') built++;
      else if (j.phase === 'running') running++;
      else if (j.phase === 'failed') failed++;
      else if (j.phase === 'dependency-failed') dependencyFailed++;
      else if (j.phase === 'cancelled') cancelled++;
    }
    const total = Math.max(this.plan.jobsTotal, seen);
    const queued = total - built - running - failed - dependencyFailed - cancelled;
    return { total, built, running, queued, failed, dependencyFailed, cancelled, alreadyValid: Math.max(this.plan.alreadyValid, valid), shared: this.plan.shared };
  }
}

function nameOf(drvPath: string, fallback: string): string {
  if (drvPath === '') return fallback;
  try {
    return derivationNameFromPath(drvPath);
  } catch {
    return drvPath.slice(drvPath.lastIndexOf('/') + 1).replace(/\.drv$/, '');
  }
}
