/**
 * A binary heap of queue entries, best first under a given order (queue-order.ts): push and pop
 * O(log n), peek O(1). Removal of a job that left the queue another way (assigned through
 * another submission's queue, cancelled, re-queued under a new epoch) is lazy: the scheduler
 * skips entries whose job is no longer ready under the same epoch.
 */
import type { QueueEntry } from './queue-order.js';

export type { QueueEntry } from './queue-order.js';

export class ReadyQueue {
  private readonly heap: QueueEntry[] = [];

  constructor(private readonly better: (a: QueueEntry, b: QueueEntry) => boolean) {}

  get size(): number {
    return this.heap.length;
  }

  /** Every entry, in no particular order (for queries such as a job's position). */
  entries(): readonly QueueEntry[] {
    return this.heap;
  }

  peek(): QueueEntry | undefined {
    return this.heap[0];
  }

  push(entry: QueueEntry): void {
    const h = this.heap;
    h.push(entry);
    let i = h.length - 1;
    while (i > 0) {
      const parent = (i - 1) >> 1;
      if (!this.better(h[i]!, h[parent]!)) break;
      [h[i], h[parent]] = [h[parent]!, h[i]!];
      i = parent;
    }
  }

  pop(): QueueEntry | undefined {
    const h = this.heap;
    const top = h[0];
    const last = h.pop();
    if (h.length > 0 && last !== undefined) {
      h[0] = last;
      let i = 0;
      for (;;) {
        const l = 2 * i + 1;
        const r = l + 1;
        let best = i;
        if (l < h.length && this.better(h[l]!, h[best]!)) best = l;
        if (r < h.length && this.better(h[r]!, h[best]!)) best = r;
        if (best === i) break;
        [h[i], h[best]] = [h[best]!, h[i]!];
        i = best;
      }
    }
    return top;
  }
}
