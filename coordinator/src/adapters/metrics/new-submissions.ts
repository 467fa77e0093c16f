/**
 * Finds the submissions admitted since this observer was attached, in the committed scheduler
 * events, and hands each one's row to `onAdmitted` exactly once (the dedup-hit counters read its
 * alreadyValid and shared figures). No service hook is needed because of two facts of
 * FarmService.submit: a submission's admission batch names it (every root yields an event:
 * a job, a shared job's snapshot, or ALREADY_VALID) and is recorded — so committed and
 * published — in the order of the submissions' createdMs, before any later batch can name it.
 * So a submission seen with createdMs above the newest one counted (or equal, and not counted)
 * is new; one below it was counted already, or was replayed after a restart (created before
 * `since`). Memory: the ids counted at the newest createdMs, and a small cache of ids known not
 * to be new.
 */
import type { SchedulerEvent } from '../../core/scheduler-types.js';
import type { SubmissionRow } from '../../service/coordinator-state.js';

const KNOWN_CACHE_MAX = 4096;

export class NewSubmissions {
  /** createdMs of the newest submission counted (submissions created before `since` are not new). */
  private newest: number;
  private readonly atNewest = new Set<string>();
  private readonly known = new Set<string>();

  constructor(
    private readonly rowOf: (id: string) => SubmissionRow | undefined,
    private readonly onAdmitted: (row: SubmissionRow) => void,
    since: number,
  ) {
    this.newest = since - 1;
  }

  observe(events: readonly SchedulerEvent[]): void {
    const ids = new Set<string>();
    for (const ev of events) {
      if (ev.type === 'job') for (const s of ev.submissions) ids.add(s);
      else ids.add(ev.submissionId);
    }
    for (const id of ids) {
      if (this.known.has(id) || this.atNewest.has(id)) continue;
      const row = this.rowOf(id);
      if (row === undefined) continue;
      if (row.createdMs > this.newest) {
        this.newest = row.createdMs;
        this.atNewest.clear();
      } else if (row.createdMs < this.newest) {
        this.remember(id);
        continue;
      }
      this.atNewest.add(id);
      this.onAdmitted(row);
    }
  }

  private remember(id: string): void {
    if (this.known.size >= KNOWN_CACHE_MAX) this.known.clear();
    this.known.add(id);
  }
}
