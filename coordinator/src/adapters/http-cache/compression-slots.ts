/**
 * At most `size` compressions at once: a Nix client copying a large closure from the cache asks
 * for dozens of narinfos in parallel, and each first narinfo of a path compresses its whole NAR
 * (brotli by default: CPU-bound). Beyond the limit, requests wait their turn in arrival order.
 */
export class CompressionSlots {
  private free: number;
  private readonly waiting: (() => void)[] = [];

  constructor(readonly size: number) {
    if (!Number.isInteger(size) || size < 1) throw new RangeError(`compression slots must be a whole number of at least 1, got ${size}`);
    this.free = size;
  }

  async run<T>(fn: () => Promise<T>): Promise<T> {
    if (this.free > 0) this.free--;
    else await new Promise<void>((resolve) => this.waiting.push(resolve));
    try {
      return await fn();
    } finally {
      // Hand the slot straight to the next waiter (it never goes back to free in between).
      const next = this.waiting.shift();
      if (next !== undefined) next();
      else this.free++;
    }
  }
}
