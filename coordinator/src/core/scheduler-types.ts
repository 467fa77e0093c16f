/** The scheduler's inputs and outputs (see scheduler.ts). */
import type { RetryPolicy } from './retry-policy.js';
import type { AgentCapabilities } from './routing.js';

/** One derivation as the scheduler sees it: routing needs and graph edges. */
export interface DrvNode {
  readonly drvPath: string;
  readonly system: string;
  readonly requiredFeatures: readonly string[];
  readonly inputDrvs: readonly string[];
}

export type JobStatus = 'waiting' | 'ready' | 'running' | 'succeeded' | 'failed' | 'dependency-failed' | 'cancelled' | 'already-valid';

export interface JobEvent {
  readonly type: 'job';
  readonly jobId: string;
  readonly drvPath: string;
  readonly status: JobStatus;
  readonly epoch: number;
  readonly agentId?: string;
  /** Why it is in this state: waiting for capacity (what is missing), the failure message, … */
  readonly reason?: string;
  readonly submissions: readonly string[];
  readonly at: number;
}

export interface SubmissionDoneEvent {
  readonly type: 'submission-done';
  readonly submissionId: string;
  readonly succeeded: number;
  readonly failed: number;
  readonly at: number;
}

export type SchedulerEvent = JobEvent | SubmissionDoneEvent;

export interface SubmitInput {
  /** Set when replaying a persisted submission after a restart; otherwise a new id is drawn. */
  readonly submissionId?: string;
  readonly roots: readonly string[];
  readonly priority?: number;
  readonly client?: string;
}

export interface SubmitOutcome {
  readonly submissionId: string;
  /** Jobs this submission needs (created or shared). */
  readonly jobs: number;
  readonly alreadyValid: number;
  /** Jobs that were already queued or running for another submission. */
  readonly shared: number;
  readonly events: SchedulerEvent[];
}

export interface AssignmentOut {
  readonly jobId: string;
  readonly drvPath: string;
  readonly epoch: number;
  readonly deadline: number;
}

export type BuildOutcome =
  /** outputBytes: the outputs' NAR sizes in all (placement prefers agents holding many input bytes). */
  | { readonly kind: 'built'; readonly outputBytes?: number }
  /** The builder failed: not retried; dependents fail. */
  | { readonly kind: 'build-failure'; readonly message: string }
  /** Sandbox, transfer, agent trouble: retried up to maxAttempts. */
  | { readonly kind: 'infrastructure-failure'; readonly message: string };

export interface AgentRegistration {
  readonly agentId: string;
  readonly capabilities: AgentCapabilities;
}

/**
 * How ready jobs are ordered. 'critical-path' is the farm's policy (longest predicted remaining
 * critical path first, then submission priority, then age, under fair share between
 * submissions); 'hydra' is the baseline the makespan benchmark compares against (oldest first,
 * then most reverse dependencies), as Hydra's queue runner orders its steps.
 */
export type QueuePolicy = 'critical-path' | 'hydra';

/** Predicted build durations, learned from the farm's own history (duration-model.ts). */
export interface DurationEstimator {
  /** Predicted wall time in ms of building `drvPath` for `system`. */
  estimateMs(drvPath: string, system: string): number;
  /** A build of `drvPath` for `system` succeeded after `ms` of wall time. */
  observe(drvPath: string, system: string, ms: number): void;
  /**
   * Whether the estimate comes from history rather than a default (absent: never). Placement
   * holds a job for a faster agent, or sends it to a slower one, only on a known estimate.
   */
  knows?(drvPath: string, system: string): boolean;
}

export interface SchedulerOptions {
  readonly leaseMs: number;
  readonly maxAttempts: number;
  /** Default 'critical-path'. */
  readonly policy?: QueuePolicy;
  /** Default: every job is predicted to take the same time (the coordinator injects a DurationModel). */
  readonly durations?: DurationEstimator;
  /** Backoff, poison and failure-cache settings (retry-policy.ts); maxAttempts above wins. */
  readonly retry?: Partial<Omit<RetryPolicy, 'maxAttempts'>>;
  /**
   * The id of the job for a derivation. Default: drawn from the id generator. The coordinator
   * derives it from the drv path so a job keeps its id (and its log subject) across restarts.
   */
  readonly jobIdFor?: (drvPath: string) => string;
  /**
   * The highest epoch a derivation's job reached before a restart (default 0), so epochs keep
   * growing across restarts and results of leases from before it stay fenced off.
   */
  readonly epochFloorOf?: (drvPath: string) => number;
}

/** The lease a job is currently under, if it is running. */
export interface LeaseHolder {
  readonly agentId: string;
  readonly epoch: number;
  readonly deadline: number;
}

/** An agent as `farm explain` shows it next to a job. */
export interface AgentView {
  readonly agentId: string;
  readonly systems: readonly string[];
  readonly supportedFeatures: readonly string[];
  readonly mandatoryFeatures: readonly string[];
  readonly maxJobs: number;
  readonly running: number;
  readonly draining: boolean;
  readonly fits: boolean;
}

/** Why a job is where it is (`farm explain`): see Scheduler.explain. */
export interface Explanation {
  readonly jobId: string;
  readonly drvPath: string;
  readonly status: JobStatus;
  readonly epoch: number;
  readonly attempts: number;
  readonly submissions: readonly string[];
  /** One sentence: why it is not running, or why it ran where it did. */
  readonly summary: string;
  /** Further facts, one per line, for people. */
  readonly details: readonly string[];
  /** Inputs not built yet, with their status (waiting jobs). */
  readonly waitingFor: readonly { readonly drvPath: string; readonly status: JobStatus }[];
  /** The connected agents and whether each fits the job (ready jobs). */
  readonly agents: readonly AgentView[];
  /** 1-based place among the ready jobs the same agents could take (ready jobs). */
  readonly position?: number;
  /** A retry backoff that is not over yet. */
  readonly backoffUntil?: number;
  readonly failedAgents: readonly string[];
  /** The agent of the current or last lease, and why it got the job. */
  readonly agentId?: string;
  readonly placement?: string;
  readonly criticalPathMs: number;
  readonly estimateMs: number;
  readonly priority: number;
}
