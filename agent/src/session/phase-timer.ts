/**
 * Where an attempt's wall time went (fetch, build, upload, logs, result), in whole milliseconds,
 * for the agent's "build finished" log line: the first thing an operator needs when a farm is
 * slower than expected is which stage of the per-job cycle is eating the time.
 */
export class PhaseTimer {
  private last: number;
  private readonly phases: Record<string, number> = {};

  constructor(private readonly now: () => number = () => performance.now()) {
    this.last = now();
  }

  /** Ends the current phase under `name` (a phase marked twice adds up) and starts the next. */
  mark(name: string): void {
    const t = this.now();
    this.phases[name] = (this.phases[name] ?? 0) + Math.round(t - this.last);
    this.last = t;
  }

  get(): Readonly<Record<string, number>> {
    return { ...this.phases };
  }
}
