/**
 * The routing bucket of a job — its derivation's system and required features, as the
 * scheduler groups ready jobs (core/routing.ts) — as metric labels, read from the derivation in
 * the farm store (parsed derivations are cached there too) and kept per drv path. Entries of
 * jobs that finished are dropped by `retain`, so memory follows the unfinished jobs.
 */
import { requiredSystemFeatures, type Derivation } from '@farm/nix';

export interface BucketLabels {
  readonly system: string;
  /** Sorted, comma-separated; '' for none. */
  readonly features: string;
}

const UNKNOWN: BucketLabels = { system: 'unknown', features: '' };

export class RoutingBuckets {
  private readonly known = new Map<string, BucketLabels>();
  private readonly loading = new Map<string, Promise<BucketLabels>>();

  constructor(private readonly derivation: (drvPath: string) => Promise<Derivation | undefined>) {}

  /** The bucket now if known, else a promise of it (never rejects: 'unknown' when unreadable). */
  of(drvPath: string): BucketLabels | Promise<BucketLabels> {
    const known = this.known.get(drvPath);
    if (known !== undefined) return known;
    let p = this.loading.get(drvPath);
    if (p === undefined) {
      p = this.load(drvPath).finally(() => this.loading.delete(drvPath));
      this.loading.set(drvPath, p);
    }
    return p;
  }

  /** Forgets every drv path `keep` says no. */
  retain(keep: (drvPath: string) => boolean): void {
    for (const drv of this.known.keys()) if (!keep(drv)) this.known.delete(drv);
  }

  private async load(drvPath: string): Promise<BucketLabels> {
    let labels = UNKNOWN;
    try {
      const drv = await this.derivation(drvPath);
      if (drv !== undefined) labels = { system: drv.system, features: [...new Set(requiredSystemFeatures(drv))].sort().join(',') };
    } catch {
      // the labels say 'unknown'; metrics never fail a scrape over one derivation
    }
    this.known.set(drvPath, labels);
    return labels;
  }
}
