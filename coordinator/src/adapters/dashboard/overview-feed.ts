/**
 * One overview for every open dashboard: recomputed when the farm changes (each committed batch of
 * scheduler events, FarmService.onSchedulerEvents) and every `refreshMs` besides (agents'
 * heartbeats and registrations are not scheduler events), coalesced so that it is computed at most
 * once per `minIntervalMs` however fast events come, and sent to subscribers only when it
 * differs from the last one sent. It listens to the service only while someone subscribes.
 */
import type { Logger } from '@farm/common';
import type { DashboardOverview } from './api-types.js';

export interface OverviewFeedDeps {
  readonly compute: () => DashboardOverview;
  /** Subscribes to committed changes; returns the unsubscribe function. */
  readonly onChange: (listener: () => void) => () => void;
  readonly logger: Logger;
  /** Default 250 ms: at most four updates a second. */
  readonly minIntervalMs?: number;
  /** Default 5000 ms. */
  readonly refreshMs?: number;
}

export type OverviewListener = (overview: DashboardOverview) => void;

export class OverviewFeed {
  private readonly listeners = new Set<OverviewListener>();
  private unsubscribe: (() => void) | undefined;
  private refresh: NodeJS.Timeout | undefined;
  private timer: NodeJS.Timeout | undefined;
  private lastRunMs = 0;
  /** The last overview sent, without its timestamp, for "did anything change". */
  private lastKey = '';

  constructor(private readonly deps: OverviewFeedDeps) {}

  /** The current overview, computed now. */
  current(): DashboardOverview {
    return this.deps.compute();
  }

  /** Calls `listener` with the current overview at once, then with every change; returns the unsubscribe function. */
  subscribe(listener: OverviewListener): () => void {
    const first = this.listeners.size === 0;
    this.listeners.add(listener);
    if (first) {
      this.unsubscribe = this.deps.onChange(() => this.schedule());
      this.refresh = setInterval(() => this.schedule(), this.deps.refreshMs ?? 5000);
      this.refresh.unref();
      this.lastKey = '';
    }
    // A new page gets the farm as it is now; the others get it with the next change.
    const now = this.computeSafely();
    if (now !== undefined) {
      if (first) this.lastKey = keyOf(now);
      listener(now);
    }
    return () => {
      if (!this.listeners.delete(listener) || this.listeners.size > 0) return;
      this.unsubscribe?.();
      this.unsubscribe = undefined;
      clearInterval(this.refresh);
      clearTimeout(this.timer);
      this.refresh = undefined;
      this.timer = undefined;
    };
  }

  close(): void {
    for (const l of [...this.listeners]) this.listeners.delete(l);
    this.unsubscribe?.();
    clearInterval(this.refresh);
    clearTimeout(this.timer);
  }

  private schedule(): void {
    if (this.timer !== undefined || this.listeners.size === 0) return;
    const wait = Math.max(0, this.lastRunMs + (this.deps.minIntervalMs ?? 250) - Date.now());
    this.timer = setTimeout(() => {
      this.timer = undefined;
      this.run();
    }, wait);
  }

  private run(): void {
    this.lastRunMs = Date.now();
    const overview = this.computeSafely();
    if (overview === undefined) return;
    const key = keyOf(overview);
    if (key === this.lastKey) return;
    this.lastKey = key;
    for (const l of [...this.listeners]) {
      try {
        l(overview);
      } catch (e) {
        this.deps.logger.error({ err: e }, 'a dashboard subscriber failed');
      }
    }
  }

  private computeSafely(): DashboardOverview | undefined {
    try {
      return this.deps.compute();
    } catch (e) {
      // Closing: the service answers UNAVAILABLE. Anything else is a bug worth a log line, not a crash.
      this.deps.logger.warn({ err: e }, 'the dashboard overview could not be computed');
      return undefined;
    }
  }
}

function keyOf(overview: DashboardOverview): string {
  return JSON.stringify({ ...overview, nowMs: 0 });
}
