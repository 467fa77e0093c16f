/**
 * Chaos scenarios live in test/; this module holds the invariant checks they share.
 */
export async function eventually<T>(probe: () => Promise<T>, timeoutMs: number, intervalMs = 50): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  let last: unknown;
  for (;;) {
    try {
      return await probe();
    } catch (e) {
      last = e;
      if (Date.now() > deadline) throw new Error(`condition not met within ${timeoutMs} ms: ${(last as Error).message ?? String(last)}`);
      await new Promise((r) => setTimeout(r, intervalMs));
    }
  }
}
export * from './farm-client.js';
export * from './farm-fixture.js';
