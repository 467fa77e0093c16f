/**
 * A binary heap, best first under the given order: push and pop O(log n), peek O(1). The
 * scheduler's ready queues use it, and so does the scheduling simulator for its event queue.
 */
export class BinaryHeap<T> {
  protected readonly heap: T[] = [];

  /** `better(a, b)`: a comes out before b. */
  constructor(private readonly better: (a: T, b: T) => boolean) {}

  get size(): number {
    return this.heap.length;
  }

  /** Every item, in no particular order (for queries such as a job's position). */
  entries(): readonly T[] {
    return this.heap;
  }

  peek(): T | undefined {
    return this.heap[0];
  }

  push(item: T): void {
    const h = this.heap;
    h.push(item);
    let i = h.length - 1;
    while (i > 0) {
      const parent = (i - 1) >> 1;
      if (!this.better(h[i]!, h[parent]!)) break;
      [h[i], h[parent]] = [h[parent]!, h[i]!];
      i = parent;
    }
  }

  pop(): T | undefined {
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
