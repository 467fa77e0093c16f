/**
 * A block of lines at the bottom of a terminal, redrawn in place: the cursor goes back up over
 * the previous block, clears to the end of the screen and writes the new one. Text printed with
 * `printAbove` (build log lines, messages) scrolls up above the block. Redraws are throttled to
 * one per `minIntervalMs`, and a ticker redraws every `tickMs` so that elapsed times move.
 * Lines must not wrap (the renderer cuts them to the width), or the block's height would be off.
 */
import type { Writable } from 'node:stream';

export interface LiveViewOptions {
  readonly render: () => string[];
  readonly minIntervalMs?: number;
  readonly tickMs?: number;
}

const UP = (n: number) => `\x1b[${n}A`;
const CLEAR_DOWN = '\x1b[J';

export class LiveView {
  private drawn = 0;
  private timer: NodeJS.Timeout | undefined;
  private ticker: NodeJS.Timeout | undefined;
  private lastDraw = 0;
  private closed = false;
  private readonly minIntervalMs: number;

  constructor(
    private readonly out: Writable,
    private readonly options: LiveViewOptions,
  ) {
    this.minIntervalMs = options.minIntervalMs ?? 100;
    const tick = options.tickMs ?? 1000;
    if (tick > 0) {
      this.ticker = setInterval(() => this.redraw(), tick);
      this.ticker.unref();
    }
  }

  /** Something changed: redraw soon (at most once per minIntervalMs). */
  invalidate(): void {
    if (this.closed || this.timer !== undefined) return;
    const wait = Math.max(0, this.lastDraw + this.minIntervalMs - Date.now());
    this.timer = setTimeout(() => {
      this.timer = undefined;
      this.redraw();
    }, wait);
    this.timer.unref();
  }

  /** Writes text above the block (each line ends with a newline), then redraws the block. */
  printAbove(text: string): void {
    if (this.closed) {
      this.out.write(text);
      return;
    }
    this.out.write(this.erase() + text);
    this.drawn = 0;
    this.redraw();
  }

  redraw(): void {
    if (this.closed) return;
    const lines = this.options.render();
    this.out.write(this.erase() + lines.map((l) => `${l}\n`).join(''));
    this.drawn = lines.length;
    this.lastDraw = Date.now();
  }

  /** Stops redrawing; the block is replaced by `finalLines` (default: nothing). */
  close(finalLines: readonly string[] = []): void {
    if (this.closed) return;
    if (this.timer !== undefined) clearTimeout(this.timer);
    if (this.ticker !== undefined) clearInterval(this.ticker);
    this.out.write(this.erase() + finalLines.map((l) => `${l}\n`).join(''));
    this.drawn = 0;
    this.closed = true;
  }

  private erase(): string {
    return this.drawn > 0 ? `\r${UP(this.drawn)}${CLEAR_DOWN}` : '';
  }
}
