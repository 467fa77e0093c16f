/**
 * When an agent's build slots will be free, predicted from its leases: each lease is predicted
 * to end at its start + the job's estimate ÷ the agent's speed factor. Placement uses it to leave
 * a job to a faster agent that will free a slot soon enough to finish the job first
 * (earliest-finish-time placement).
 *
 * A lease that has outlived its prediction is an unknown: it might end any moment or in an hour.
 * Its slot counts as never freeing, so no job waits for it; otherwise a job could wait forever
 * for an agent stuck in an overrunning build while a slower agent sits idle.
 */

/** Predicted lease ends of one agent, ascending. */
export class SlotForecast {
  private readonly ends: number[] = [];

  get leases(): number {
    return this.ends.length;
  }

  add(end: number): void {
    this.ends.splice(this.firstAtOrAfter(end), 0, end);
  }

  remove(end: number): void {
    const i = this.firstAtOrAfter(end);
    if (this.ends[i] === end) this.ends.splice(i, 1);
  }

  /**
   * When the agent's k-th slot (0-based, earliest first) is predicted to be free, for an agent
   * with `slots` build slots: `now` for the slots no lease takes, if `asking` (the agent has a
   * work request open; one that is not asking may be gone or stuck, so only its leases' ends
   * count), then the leases' ends in order. An agent may hold more leases than slots (a finished
   * build still uploading its outputs holds a lease without a slot): the first `leases − slots`
   * ends then free no slot. Overrunning leases go last, as never ending: Infinity when the slot
   * waits on one, or there is no such slot.
   */
  slotFreeAt(k: number, slots: number, now: number, asking: boolean): number {
    if (k >= slots) return Infinity;
    const free = slots - this.ends.length;
    if (asking) return k < free ? now : this.leaseEndAt(k - free, now);
    return this.leaseEndAt(k + Math.max(0, -free), now);
  }

  /** The i-th earliest end of the leases that have not overrun (Infinity past them). */
  private leaseEndAt(i: number, now: number): number {
    const j = this.firstAtOrAfter(now) + i;
    return j < this.ends.length ? this.ends[j]! : Infinity;
  }

  private firstAtOrAfter(end: number): number {
    let lo = 0;
    let hi = this.ends.length;
    while (lo < hi) {
      const mid = (lo + hi) >>> 1;
      if (this.ends[mid]! < end) lo = mid + 1;
      else hi = mid;
    }
    return lo;
  }
}
