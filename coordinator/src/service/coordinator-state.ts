/**
 * CoordinatorState: the coordinator's durable memory besides the store — submissions, the events
 * each Watch stream replays, the last known state of every job (its epoch, so fencing survives a
 * restart) and one record per accepted build result. The service writes every change it is about
 * to acknowledge in one `commit` (all of it durably, or none), then acknowledges.
 *
 * Reads are synchronous (LMDB reads are memory-mapped lookups), so the scheduler's epoch floors
 * and the status views can ask them inline.
 */
import type { JobStatus } from '../core/scheduler-types.js';

export interface SubmissionRow {
  readonly id: string;
  readonly roots: readonly string[];
  readonly priority: number;
  readonly client: string;
  readonly createdMs: number;
  /** Per-job limits of this submission (0 = the farm's default). */
  readonly timeoutMs: number;
  readonly maxSilentMs: number;
  readonly done: boolean;
  readonly jobsTotal: number;
  readonly alreadyValid: number;
  readonly shared: number;
  readonly succeeded: number;
  readonly failed: number;
  /** The sequence number of its last event (0 = none yet). */
  readonly lastSeq: number;
  /**
   * W3C `traceparent` of the span that admitted it (absent when tracing is off): its jobs' spans
   * join that trace, also after a restart, and the dashboard links the trace by its id.
   */
  readonly traceparent?: string;
}

/** A SubmissionEvent exactly as Watch sends it (numbers instead of uint64 strings). */
export interface EventRow {
  readonly sequence: number;
  readonly submissionId: string;
  readonly jobId: string;
  readonly drvPath: string;
  /** A JobState name (`JOB_STATE_*`). */
  readonly state: string;
  readonly agentId: string;
  readonly reason: string;
  readonly timeMs: number;
  readonly outputs: Readonly<Record<string, string>>;
  readonly final: boolean;
}

export interface JobRow {
  readonly drvPath: string;
  readonly jobId: string;
  /** The highest epoch the job reached: the scheduler's epoch floor after a restart. */
  readonly epoch: number;
  readonly status: JobStatus;
  readonly agentId: string;
  readonly reason: string;
  /** When it last became ready / was last leased (0 = never). */
  readonly readyMs: number;
  readonly assignedMs: number;
  /** The epoch of its last lease (0 = it never ran): whose log `eof` ends a followed Logs call. */
  readonly runEpoch: number;
}

/** One accepted build result (the proto BuildRecord with numbers). */
export interface BuildRow {
  readonly jobId: string;
  readonly drvPath: string;
  readonly epoch: number;
  readonly agentId: string;
  /** built, failed, timed-out, … (BuildStatus without prefix, lower-case, '_' → '-'). */
  readonly status: string;
  readonly readyMs: number;
  readonly assignedMs: number;
  readonly finishedMs: number;
  readonly message: string;
  /** The derivation's system (rows written before it was recorded have none). */
  readonly system?: string;
}

/** Everything one acknowledged step changes; committed atomically. */
export interface StateBatch {
  readonly submissions?: readonly SubmissionRow[];
  readonly events?: readonly EventRow[];
  readonly jobs?: readonly JobRow[];
  readonly builds?: readonly BuildRow[];
}

export interface CoordinatorState {
  /** Writes the whole batch durably (or nothing, if it throws); resolves after the commit. */
  commit(batch: StateBatch): Promise<void>;
  getSubmission(id: string): SubmissionRow | undefined;
  /** Every submission, oldest first (createdMs, then id). */
  listSubmissions(): SubmissionRow[];
  /** The submission's events with sequence ≥ fromSequence, in order. */
  events(submissionId: string, fromSequence: number): EventRow[];
  getJob(drvPath: string): JobRow | undefined;
  listJobs(): JobRow[];
  /** Accepted builds of one derivation (or all), by drv path then epoch. */
  listBuilds(drvPath?: string): BuildRow[];
  getBuild(drvPath: string, epoch: number): BuildRow | undefined;
  close(): Promise<void>;
}
