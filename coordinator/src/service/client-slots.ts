/**
 * Per-client concurrency for door builds: at most `limit` at once per client name, the rest
 * waiting in arrival order. A waiter whose signal aborts stops waiting (and takes no slot).
 * O(1) per acquire/release; a client's entry disappears when it holds and awaits nothing.
 */
export class ClientSlots {
  private readonly slots = new Map<string, { running: number; waiting: (() => void)[] }>();

  /** Builds `client` runs now (for tests and status). */
  running(client: string): number {
    return this.slots.get(client)?.running ?? 0;
  }

  /** Resolves with a release function once the client has a free slot; after an abort, with a no-op (no slot). */
  async acquire(client: string, limit: number, signal: AbortSignal): Promise<() => void> {
    const max = Math.max(1, limit);
    let slot = this.slots.get(client);
    if (slot === undefined) this.slots.set(client, (slot = { running: 0, waiting: [] }));
    const s = slot;
    while (s.running >= max && !signal.aborted) {
      await new Promise<void>((resolve) => {
        const wake = () => {
          signal.removeEventListener('abort', wake);
          const i = s.waiting.indexOf(wake);
          if (i >= 0) s.waiting.splice(i, 1);
          resolve();
        };
        s.waiting.push(wake);
        signal.addEventListener('abort', wake, { once: true });
      });
    }
    if (signal.aborted) {
      if (s.running === 0 && s.waiting.length === 0) this.slots.delete(client);
      return () => undefined; // gave up: no slot taken
    }
    s.running++;
    let released = false;
    return () => {
      if (released) return;
      released = true;
      s.running--;
      const next = s.waiting[0];
      // A woken waiter takes the slot on its next turn: keep the entry for it.
      if (next !== undefined) next();
      else if (s.running === 0) this.slots.delete(client);
    };
  }
}
