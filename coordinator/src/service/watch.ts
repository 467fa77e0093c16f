/**
 * The Watch stream of one submission: its persisted events from `fromSequence`, then live ones,
 * ending after the event marked `final` (or at once when the submission ended before
 * `fromSequence`), or when the caller aborts or the service closes.
 *
 * No gap, no duplicate: the live listener is attached *before* the history is read. Events are
 * published only after their commit, so each one is either in the history read or arrives
 * through the listener afterwards (or both — duplicates are dropped by sequence number).
 */
import type { CoordinatorState, EventRow } from './coordinator-state.js';
import type { Journal } from './journal.js';

export interface WatchDeps {
  readonly journal: Journal;
  readonly state: CoordinatorState;
  readonly isClosed: () => boolean;
}

export async function* watchEvents(deps: WatchDeps, submissionId: string, fromSequence: number, signal: AbortSignal): AsyncGenerator<EventRow> {
  const queue: EventRow[] = [];
  let wake: (() => void) | undefined;
  const poke = () => {
    const w = wake;
    wake = undefined;
    w?.();
  };
  const unsubscribe = deps.journal.watch(submissionId, (e) => {
    queue.push(e);
    poke();
  });
  const unclose = deps.journal.onWorkAvailable(() => {
    if (deps.isClosed()) poke();
  });
  signal.addEventListener('abort', poke);
  try {
    let next = Math.max(1, fromSequence);
    for (const e of deps.state.events(submissionId, next)) {
      yield e;
      next = e.sequence + 1;
      if (e.final) return;
    }
    // Asked for events past the final one: there will be no more.
    const row = deps.state.getSubmission(submissionId);
    if (row !== undefined && row.done && row.lastSeq < next) return;
    for (;;) {
      // Taken in batches (not shift() one by one: a burst of 100k events would be quadratic).
      while (queue.length > 0) {
        const batch = queue.splice(0, queue.length);
        for (const e of batch) {
          if (e.sequence < next) continue;
          yield e;
          next = e.sequence + 1;
          if (e.final) return;
        }
      }
      if (signal.aborted || deps.isClosed()) return;
      await new Promise<void>((resolve) => (wake = resolve));
    }
  } finally {
    unsubscribe();
    unclose();
    signal.removeEventListener('abort', poke);
  }
}
