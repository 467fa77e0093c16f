/**
 * The ready jobs of one routing bucket, best first: higher priority, then older, then the
 * order they became ready. A binary heap: push and pop O(log n), peek O(1). Removal of a job
 * that left the queue another way (cancelled) is lazy: the scheduler skips entries whose job
 * is no longer ready under the same epoch.
 */
export interface QueueEntry {
  readonly jobId: string;
  readonly epoch: number;
  readonly priority: number;
  readonly readyAt: number;
  readonly seq: number;
}

function better(a: QueueEntry, b: QueueEntry): boolean {
  if (a.priority !== b.priority) return a.priority > b.priority;
  if (a.readyAt !== b.readyAt) return a.readyAt < b.readyAt;
  return a.seq < b.seq;
}

export class ReadyQueue {
  private readonly heap: QueueEntry[] = [];

  get size(): number {
    return this.heap.length;
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
      if (!better(h[i]!, h[parent]!)) break;
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
        if (l < h.length && better(h[l]!, h[best]!)) best = l;
        if (r < h.length && better(h[r]!, h[best]!)) best = r;
        if (best === i) break;
        [h[i], h[best]] = [h[best]!, h[i]!];
        i = best;
      }
    }
    return top;
  }
}
