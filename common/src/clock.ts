/**
 * Time is injected: core logic asks a Clock, never Date.now(), so scheduler tests advance a
 * fake clock instead of sleeping.
 */
export interface Clock {
  /** Milliseconds since the Unix epoch. */
  now(): number;
}

export const systemClock: Clock = { now: () => Date.now() };

/** A clock that only moves when told to. */
export class ManualClock implements Clock {
  constructor(private ms = 0) {}
  now(): number {
    return this.ms;
  }
  advance(ms: number): void {
    if (ms < 0) throw new RangeError('a clock cannot go backwards');
    this.ms += ms;
  }
  set(ms: number): void {
    this.ms = ms;
  }
}
