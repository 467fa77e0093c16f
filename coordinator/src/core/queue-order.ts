/**
 * The orders ready jobs are taken in (docs/scheduling.md states them for operators).
 *
 * 'critical-path' (the farm's): the job with the longest predicted remaining critical path —
 * its own predicted duration plus the longest chain of predicted durations of the jobs that wait
 * for it — goes first, because nothing can shorten the whole build more. Ties: the higher
 * submission priority (`farm submit --priority`), then the job that has been ready longest.
 *
 * 'hydra' (the benchmark's baseline, as the issue describes Hydra's queue runner): the oldest
 * submission first, then the job with the most reverse dependencies (direct dependents).
 */
import type { QueuePolicy } from './scheduler-types.js';

export interface QueueEntry {
  readonly jobId: string;
  readonly epoch: number;
  /** Predicted remaining critical path, ms. */
  readonly cpMs: number;
  /** Submission priority (the highest among the submissions that need the job). */
  readonly priority: number;
  /** When the job became ready (or became due again after a backoff). */
  readonly readyAt: number;
  /** The order of the oldest submission that needs the job. */
  readonly submissionOrder: number;
  /** Direct dependents (reverse dependencies). */
  readonly rdeps: number;
  /** Push order: the last tie-break, so equal entries keep FIFO order. */
  readonly seq: number;
}

export function criticalPathFirst(a: QueueEntry, b: QueueEntry): boolean {
  if (a.cpMs !== b.cpMs) return a.cpMs > b.cpMs;
  if (a.priority !== b.priority) return a.priority > b.priority;
  if (a.readyAt !== b.readyAt) return a.readyAt < b.readyAt;
  return a.seq < b.seq;
}

export function hydraOrder(a: QueueEntry, b: QueueEntry): boolean {
  if (a.submissionOrder !== b.submissionOrder) return a.submissionOrder < b.submissionOrder;
  if (a.rdeps !== b.rdeps) return a.rdeps > b.rdeps;
  return a.seq < b.seq;
}

export function orderOf(policy: QueuePolicy): (a: QueueEntry, b: QueueEntry) => boolean {
  return policy === 'hydra' ? hydraOrder : criticalPathFirst;
}

/** Entries waiting out a retry backoff, earliest due first (readyAt holds the due time). */
export function dueFirst(a: QueueEntry, b: QueueEntry): boolean {
  return a.readyAt !== b.readyAt ? a.readyAt < b.readyAt : a.seq < b.seq;
}
