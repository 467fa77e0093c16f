/**
 * The routing bucket of a job — its derivation's system and required features, as the
 * scheduler groups ready jobs (core/routing.ts) — as metric labels. Read from the scheduler's
 * own graph node (FarmService.routingOf): no store read or parse on the assignment path.
 */
export interface BucketLabels {
  readonly system: string;
  /** Sorted, comma-separated; '' for none. */
  readonly features: string;
}

export type RoutingOf = (drvPath: string) => { readonly system: string; readonly requiredFeatures: readonly string[] } | undefined;

const UNKNOWN: BucketLabels = { system: 'unknown', features: '' };

export function bucketLabels(routingOf: RoutingOf, drvPath: string): BucketLabels {
  const r = routingOf(drvPath);
  if (r === undefined) return UNKNOWN;
  const features = r.requiredFeatures.length === 0 ? '' : r.requiredFeatures.length === 1 ? r.requiredFeatures[0]! : [...new Set(r.requiredFeatures)].sort().join(',');
  return { system: r.system, features };
}
