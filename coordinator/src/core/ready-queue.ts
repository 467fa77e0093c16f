/**
 * The ready jobs of one routing bucket (and submission), best first under a queue order
 * (queue-order.ts). Removal of a job that left the queue another way (assigned through another
 * submission's queue, cancelled, re-queued under a new epoch) is lazy: the scheduler skips
 * entries whose job is no longer ready under the same epoch.
 */
import { BinaryHeap } from './binary-heap.js';
import type { QueueEntry } from './queue-order.js';

export type { QueueEntry } from './queue-order.js';

export class ReadyQueue extends BinaryHeap<QueueEntry> {}
