/**
 * The dashboard's JSON API (`/api/overview`, the `overview` events of `/api/events`,
 * `/api/submissions/<id>`, the events of `/api/jobs/<jobId>/log`): one definition shared by the
 * server and the page (coordinator/dashboard/ compiles this file into the browser build too),
 * so it imports nothing. Times are Unix milliseconds; job states are the scheduler's JobStatus
 * names (`waiting`, `ready`, `running`, `succeeded`, `failed`, `dependency-failed`, `cancelled`).
 */

export interface DashboardProgress {
  /** Jobs the submission needs (created or shared with another submission). */
  readonly total: number;
  readonly succeeded: number;
  /** Failed, dependency failed or cancelled. */
  readonly failed: number;
  readonly running: number;
  /** Queued: waiting for inputs or ready. */
  readonly waiting: number;
}

export interface DashboardSubmission {
  readonly id: string;
  readonly client: string;
  readonly createdMs: number;
  readonly roots: readonly string[];
  readonly done: boolean;
  /** 'running' until done; then 'succeeded' or 'failed'. */
  readonly outcome: 'running' | 'succeeded' | 'failed';
  readonly progress: DashboardProgress;
  /** The trace of the submission in the configured tracing UI (`ops.traceUrl`), if any. */
  readonly traceUrl?: string;
}

export interface DashboardJob {
  readonly jobId: string;
  readonly drvPath: string;
  /** The derivation's name (its store path without hash and `.drv`). */
  readonly name: string;
  readonly state: string;
  /** The agent that runs or ran it ('' = none). */
  readonly agentId: string;
  /** Why it is in this state (a failure's message, what it waits for), as the event said. */
  readonly reason: string;
  /** When it entered this state. */
  readonly sinceMs: number;
  /** The derivation's system ('' when unknown; only in a submission's job list). */
  readonly system?: string;
}

export interface DashboardQueuedJob {
  readonly jobId: string;
  readonly drvPath: string;
  readonly name: string;
  /** 'waiting' (inputs not built yet) or 'ready'. */
  readonly state: string;
  /** Exactly the first line of `farm explain` for the job. */
  readonly reason: string;
  /** Its place among the ready jobs its agents could take (0 = not in that queue). */
  readonly position: number;
  readonly submissions: readonly string[];
}

export interface DashboardAgent {
  readonly name: string;
  readonly host: string;
  readonly systems: readonly string[];
  readonly supportedFeatures: readonly string[];
  readonly mandatoryFeatures: readonly string[];
  readonly maxJobs: number;
  readonly running: number;
  readonly freeSlots: number;
  readonly speedFactor: number;
  readonly draining: boolean;
  readonly lastHeartbeatMs: number;
}

export interface DashboardOverview {
  /** The coordinator's clock when this was made (for "… ago" without trusting the browser's). */
  readonly nowMs: number;
  readonly version: string;
  /** The most recent submissions first (at most OVERVIEW_LIMITS.submissions). */
  readonly submissions: readonly DashboardSubmission[];
  /** Submissions known in all (the list above may be cut). */
  readonly submissionsTotal: number;
  /** Running jobs of the live submissions. */
  readonly running: readonly DashboardJob[];
  /** Queued jobs of the live submissions, ready ones first (at most OVERVIEW_LIMITS.queue). */
  readonly queue: readonly DashboardQueuedJob[];
  /** Queued jobs in all. */
  readonly queueTotal: number;
  readonly agents: readonly DashboardAgent[];
}

export interface DashboardSubmissionJobs {
  readonly submission: DashboardSubmission;
  readonly jobs: readonly DashboardJob[];
  /** Jobs in all (the list may be cut at OVERVIEW_LIMITS.jobs). */
  readonly jobsTotal: number;
}

/** The data of one `chunk` event of `/api/jobs/<jobId>/log`. */
export interface DashboardLogChunk {
  readonly epoch: number;
  readonly seq: number;
  /** The chunk's bytes as UTF-8 (a character split across chunks is joined, not mangled). */
  readonly text: string;
  /** The log limit was reached here (the build fails). */
  readonly truncated: boolean;
  /** The last chunk of this attempt. */
  readonly eof: boolean;
}

/** The data of a `problem` event (the stream ends after it). */
export interface DashboardProblem {
  readonly code: string;
  readonly message: string;
}
