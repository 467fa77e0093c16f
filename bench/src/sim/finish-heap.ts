/**
 * The simulator's event queue: running builds ordered by simulated finish time, ties broken by
 * the order they started (so a run is deterministic whatever the heap's internal layout).
 * A binary heap: push and pop O(log n), peek O(1).
 */
export interface RunningBuild {
  readonly finishAt: number;
  /** Start order, unique: the tie-break among equal finish times. */
  readonly seq: number;
  readonly jobId: string;
  readonly drvPath: string;
  readonly agentId: string;
  readonly epoch: number;
}

function earlier(a: RunningBuild, b: RunningBuild): boolean {
  return a.finishAt !== b.finishAt ? a.finishAt < b.finishAt : a.seq < b.seq;
}

export class FinishHeap {
  private readonly heap: RunningBuild[] = [];

  get size(): number {
    return this.heap.length;
  }

  peek(): RunningBuild | undefined {
    return this.heap[0];
  }

  push(build: RunningBuild): void {
    const h = this.heap;
    h.push(build);
    let i = h.length - 1;
    while (i > 0) {
      const parent = (i - 1) >> 1;
      if (!earlier(h[i]!, h[parent]!)) break;
      [h[i], h[parent]] = [h[parent]!, h[i]!];
      i = parent;
    }
  }

  pop(): RunningBuild | undefined {
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
        if (l < h.length && earlier(h[l]!, h[best]!)) best = l;
        if (r < h.length && earlier(h[r]!, h[best]!)) best = r;
        if (best === i) break;
        [h[i], h[best]] = [h[best]!, h[i]!];
        i = best;
      }
    }
    return top;
  }
}
