/**
 * Learned build durations: the scheduler's critical-path priority needs a predicted wall time
 * for every derivation, and the only honest source is the farm's own history. Durations are
 * keyed by the derivation's name with its version stripped, plus the system, so a new version
 * of a package inherits what the old one cost (versions change every week; build cost rarely
 * changes that fast). Pure: no clock, no I/O; the coordinator persists it via snapshot().
 */
import { FarmError } from '@farm/common';
import type { DurationEstimator } from './scheduler-types.js';

/** Nix's base-32 alphabet (no e, o, t, u): the hash part of a store path uses only these. */
const STORE_BASENAME = /^[0-9a-df-np-sv-z]{32}-(.+)$/;

/**
 * The derivation's name from its store path: `/nix/store/<hash>-<name>.drv` → `<name>` (the
 * `.drv` suffix is optional, and the store directory may be any). Odd input (not a store path)
 * yields its basename instead of a throw: the scheduler must not crash on a strange path, and a
 * key that is merely unusual only costs estimate quality.
 */
export function drvNameOf(drvPath: string): string {
  const base = drvPath.slice(drvPath.lastIndexOf('/') + 1);
  const stem = base.endsWith('.drv') ? base.slice(0, -'.drv'.length) : base;
  const m = STORE_BASENAME.exec(stem);
  return m?.[1] ?? base;
}

function isAsciiLetter(c: string | undefined): boolean {
  return c !== undefined && ((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z'));
}

/**
 * The package name without its version, by Nix's own rule (DrvName::DrvName in NixOS/nix
 * src/libexpr/names.cc, also `builtins.parseDrvName`): "the `name' part of a derivation name is
 * everything up to but not including the first dash *not* followed by a letter". Nix tests
 * `s[i] == '-' && i + 1 < s.size() && !isalpha(s[i + 1])`, so a trailing dash does not split,
 * and isalpha is the C locale's (ASCII letters only). `hello-2.12.1` → `hello`,
 * `python3.11-requests-2.31` → `python3.11-requests`, `foo-bar` → `foo-bar`.
 */
export function stripVersion(name: string): string {
  for (let i = 0; i + 1 < name.length; i++) {
    if (name[i] === '-' && !isAsciiLetter(name[i + 1])) return name.slice(0, i);
  }
  return name;
}

/** The model's key: versionless name and system (`hello|x86_64-linux`). */
export function durationKey(drvPath: string, system: string): string {
  return `${stripVersion(drvNameOf(drvPath))}|${system}`;
}

export interface DurationModelOptions {
  /**
   * The estimate for a name never seen on any system. Default 60 s: most derivations of a
   * package set build in seconds to a few minutes, so a minute is the right order of magnitude
   * for an unknown one; it is well above trivial builders (so an unknown chain still outranks
   * a known-trivial one) and well below big compilers (which the farm learns after one build).
   */
  readonly defaultMs?: number;
  /** EWMA weight of a new observation, in (0, 1]. Default 0.3: adapts in a few builds, yet one
   * outlier (a loaded machine, a cold cache) moves the estimate by less than a third. */
  readonly alpha?: number;
  /** At most this many keys are kept; the least recently observed or used goes first. */
  readonly maxKeys?: number;
}

/** One persisted row: key, estimate in ms, number of observations behind it. */
export type DurationRow = [key: string, ms: number, samples: number];

interface Entry {
  readonly name: string;
  ms: number;
  samples: number;
}

function validMs(ms: unknown): ms is number {
  return typeof ms === 'number' && Number.isFinite(ms) && ms >= 0;
}

export class DurationModel implements DurationEstimator {
  private readonly defaultMs: number;
  private readonly alpha: number;
  private readonly maxKeys: number;
  /** Map iteration order is recency order: oldest first (touch = delete + set). */
  private readonly entries = new Map<string, Entry>();
  /** name → key → entry, for the cross-system fallback without scanning every key. */
  private readonly byName = new Map<string, Map<string, Entry>>();

  constructor(options: DurationModelOptions = {}) {
    this.defaultMs = options.defaultMs ?? 60_000;
    this.alpha = options.alpha ?? 0.3;
    this.maxKeys = options.maxKeys ?? 100_000;
    if (!validMs(this.defaultMs)) {
      throw new FarmError('INVALID_ARGUMENT', `duration model: defaultMs must be a finite number >= 0, got ${this.defaultMs}`);
    }
    if (!(this.alpha > 0 && this.alpha <= 1)) {
      throw new FarmError('INVALID_ARGUMENT', `duration model: alpha must be in (0, 1], got ${this.alpha}`);
    }
    if (!Number.isSafeInteger(this.maxKeys) || this.maxKeys < 1) {
      throw new FarmError('INVALID_ARGUMENT', `duration model: maxKeys must be a positive integer, got ${this.maxKeys}`);
    }
  }

  /** Rebuild a model from snapshot() rows (oldest first). Malformed rows are skipped, not fatal:
   * a damaged history should cost estimates, never the coordinator's start. */
  static fromSnapshot(rows: unknown, options: DurationModelOptions = {}): DurationModel {
    const model = new DurationModel(options);
    if (!Array.isArray(rows)) return model;
    for (const row of rows as unknown[]) {
      if (!Array.isArray(row) || row.length !== 3) continue;
      const [key, ms, samples] = row as unknown[];
      if (typeof key !== 'string' || !validMs(ms)) continue;
      if (typeof samples !== 'number' || !Number.isSafeInteger(samples) || samples < 1) continue;
      // Store names cannot contain '|', so the first one separates name and system.
      const bar = key.indexOf('|');
      if (bar < 0) continue;
      model.put(key, key.slice(0, bar), ms, samples);
    }
    return model;
  }

  get size(): number {
    return this.entries.size;
  }

  /** Whether estimateMs answers from history (this system's or another's), not the default. */
  knows(drvPath: string, system: string): boolean {
    const name = stripVersion(drvNameOf(drvPath));
    return this.entries.has(`${name}|${system}`) || (this.byName.get(name)?.size ?? 0) > 0;
  }

  estimateMs(drvPath: string, system: string): number {
    const name = stripVersion(drvNameOf(drvPath));
    const key = `${name}|${system}`;
    const exact = this.entries.get(key);
    if (exact !== undefined) {
      this.touch(key, exact);
      return exact.ms;
    }
    // Unknown for this system, but the same package may have been built for another one (e.g.
    // natively on x86_64 before its first aarch64 build): that is a far better guess than the
    // blanket default. When several systems know it, the one with the most samples wins.
    const others = this.byName.get(name);
    if (others !== undefined) {
      let best: [string, Entry] | undefined;
      for (const kv of others) if (best === undefined || kv[1].samples > best[1].samples) best = kv;
      if (best !== undefined) {
        this.touch(best[0], best[1]);
        return best[1].ms;
      }
    }
    return this.defaultMs;
  }

  observe(drvPath: string, system: string, ms: number): void {
    if (!validMs(ms)) return; // a broken clock reading must not poison the history
    const name = stripVersion(drvNameOf(drvPath));
    const key = `${name}|${system}`;
    const entry = this.entries.get(key);
    if (entry === undefined) {
      this.put(key, name, ms, 1);
      return;
    }
    entry.ms += this.alpha * (ms - entry.ms);
    if (entry.samples < Number.MAX_SAFE_INTEGER) entry.samples++;
    this.touch(key, entry);
  }

  /** Every key, oldest (least recently observed or used) first, so fromSnapshot keeps the order. */
  snapshot(): DurationRow[] {
    const rows: DurationRow[] = [];
    for (const [key, e] of this.entries) rows.push([key, e.ms, e.samples]);
    return rows;
  }

  private touch(key: string, entry: Entry): void {
    this.entries.delete(key);
    this.entries.set(key, entry);
  }

  /** Insert or replace a key as the most recent, then evict the oldest beyond maxKeys. */
  private put(key: string, name: string, ms: number, samples: number): void {
    this.remove(key);
    const entry: Entry = { name, ms, samples };
    this.entries.set(key, entry);
    let group = this.byName.get(name);
    if (group === undefined) this.byName.set(name, (group = new Map()));
    group.set(key, entry);
    while (this.entries.size > this.maxKeys) {
      const oldest = this.entries.keys().next();
      if (oldest.done === true) break;
      this.remove(oldest.value);
    }
  }

  private remove(key: string): void {
    const entry = this.entries.get(key);
    if (entry === undefined) return;
    this.entries.delete(key);
    const group = this.byName.get(entry.name);
    group?.delete(key);
    if (group?.size === 0) this.byName.delete(entry.name);
  }
}
