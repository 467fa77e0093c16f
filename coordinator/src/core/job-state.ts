/**
 * The life of one job (one derivation) as a pure state machine. Leases carry an epoch: every
 * (re)assignment bumps it, and anything an agent reports under an older epoch is refused
 * (fencing), so a job that was handed to a second agent after the first went silent is
 * recorded exactly once.
 *
 * Invariants: `epoch` only grows; terminal states (succeeded, failed, cancelled) never change;
 * only a leased job accepts a result, and only for its current epoch. Every function is O(1)
 * and returns a new value (no mutation), so callers can commit the new state before acknowledging.
 */
export type JobState = 'waiting' | 'ready' | 'leased' | 'succeeded' | 'failed' | 'cancelled';

export interface Lease {
  readonly agentId: string;
  readonly epoch: number;
  readonly deadline: number;
}

export interface Job {
  readonly state: JobState;
  readonly epoch: number;
  readonly attempts: number;
  readonly lease?: Lease;
}

export type Transition<T = Job> = { readonly ok: true; readonly job: T } | { readonly ok: false; readonly reason: string };

export const TERMINAL_STATES: ReadonlySet<JobState> = new Set(['succeeded', 'failed', 'cancelled']);

export function newJob(inputsReady: boolean): Job {
  return { state: inputsReady ? 'ready' : 'waiting', epoch: 0, attempts: 0 };
}

export function markReady(job: Job): Transition {
  if (job.state !== 'waiting') return { ok: false, reason: `job is ${job.state}, not waiting` };
  return { ok: true, job: { ...job, state: 'ready' } };
}

export function assign(job: Job, agentId: string, now: number, leaseMs: number): Transition {
  if (job.state !== 'ready') return { ok: false, reason: `job is ${job.state}, not ready` };
  const epoch = job.epoch + 1;
  return { ok: true, job: { state: 'leased', epoch, attempts: job.attempts + 1, lease: { agentId, epoch, deadline: now + leaseMs } } };
}

export function renew(job: Job, agentId: string, epoch: number, now: number, leaseMs: number): Transition {
  const fenced = checkLease(job, agentId, epoch);
  if (fenced !== undefined) return { ok: false, reason: fenced };
  if (now > job.lease!.deadline) return { ok: false, reason: `lease epoch ${epoch} expired at ${job.lease!.deadline}` };
  return { ok: true, job: { ...job, lease: { agentId, epoch, deadline: now + leaseMs } } };
}

/** Returns a leased job whose deadline has passed to the queue under a new epoch. */
export function expire(job: Job, now: number): Transition {
  if (job.state !== 'leased' || job.lease === undefined) return { ok: false, reason: `job is ${job.state}, not leased` };
  if (now <= job.lease.deadline) return { ok: false, reason: 'lease has not expired' };
  return { ok: true, job: { state: 'ready', epoch: job.epoch + 1, attempts: job.attempts } };
}

export function complete(job: Job, agentId: string, epoch: number, success: boolean): Transition {
  const fenced = checkLease(job, agentId, epoch);
  if (fenced !== undefined) return { ok: false, reason: fenced };
  return { ok: true, job: { state: success ? 'succeeded' : 'failed', epoch: job.epoch, attempts: job.attempts } };
}

/**
 * Gives a leased job back to the queue under a new epoch (its agent was lost, or the build hit
 * an infrastructure failure); the old holder is fenced off.
 */
export function release(job: Job, agentId: string, epoch: number): Transition {
  const fenced = checkLease(job, agentId, epoch);
  if (fenced !== undefined) return { ok: false, reason: fenced };
  return { ok: true, job: { state: 'ready', epoch: job.epoch + 1, attempts: job.attempts } };
}

/** Starts a finished (failed or cancelled) job again for a new submission, under a new epoch. */
export function restart(job: Job, inputsReady: boolean): Transition {
  if (job.state !== 'failed' && job.state !== 'cancelled') return { ok: false, reason: `job is ${job.state}, not failed or cancelled` };
  return { ok: true, job: { state: inputsReady ? 'ready' : 'waiting', epoch: job.epoch + 1, attempts: 0 } };
}

/** Fails a job that never ran because an input failed. */
export function failUnstarted(job: Job): Transition {
  if (job.state !== 'waiting' && job.state !== 'ready') return { ok: false, reason: `job is ${job.state}, not waiting or ready` };
  return { ok: true, job: { state: 'failed', epoch: job.epoch + 1, attempts: job.attempts } };
}

export function cancel(job: Job): Transition {
  if (TERMINAL_STATES.has(job.state)) return { ok: false, reason: `job is already ${job.state}` };
  return { ok: true, job: { state: 'cancelled', epoch: job.epoch + 1, attempts: job.attempts } };
}

function checkLease(job: Job, agentId: string, epoch: number): string | undefined {
  if (job.state !== 'leased' || job.lease === undefined) return `job is ${job.state}, not leased`;
  if (epoch !== job.epoch) return `stale epoch ${epoch}: the job is at epoch ${job.epoch}`;
  if (agentId !== job.lease.agentId) return `agent ${agentId} does not hold the lease (held by ${job.lease.agentId})`;
  return undefined;
}
