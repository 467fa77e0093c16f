/**
 * What happens after an infrastructure failure (agent lost, lease expired, sandbox setup,
 * transfer, disk full, out of memory — anything that is not the derivation's fault): the job is
 * retried on a different agent after a capped exponential backoff, unless it has now brought
 * down `poisonAgents` distinct agents (then it is poison and never retried automatically) or
 * has used up `maxAttempts`. Build failures (the builder's exit, timeouts, silence, missing
 * outputs) are never retried automatically; they are cached for `failureTtlMs`.
 */

export interface RetryPolicy {
  /** Attempts in all (first run included) before an infrastructure failure becomes final. */
  readonly maxAttempts: number;
  /** Backoff before the n-th retry: min(cap, base × 2^(n-1)). */
  readonly backoffBaseMs: number;
  readonly backoffCapMs: number;
  /** Distinct agents a job may bring down before it is marked poison. */
  readonly poisonAgents: number;
  /** How long a build failure is reused for new submissions before the job is tried again. */
  readonly failureTtlMs: number;
}

export const DEFAULT_RETRY_POLICY: RetryPolicy = {
  maxAttempts: 3,
  backoffBaseMs: 1_000,
  backoffCapMs: 60_000,
  poisonAgents: 3,
  failureTtlMs: 60 * 60_000,
};

export function backoffMs(retry: number, policy: Pick<RetryPolicy, 'backoffBaseMs' | 'backoffCapMs'>): number {
  const n = Math.max(1, Math.floor(retry));
  // 2^(n-1) overflows to Infinity long after the cap applies; min() keeps it finite.
  return Math.min(policy.backoffCapMs, policy.backoffBaseMs * 2 ** Math.min(n - 1, 52));
}

export type AfterInfrastructureFailure =
  | { readonly action: 'retry'; readonly notBefore: number }
  | { readonly action: 'poison'; readonly reason: string }
  | { readonly action: 'give-up'; readonly reason: string };

/**
 * `failedAgents` already includes the agent of this failure; `attempts` counts the attempts
 * made so far (this one included).
 */
export function afterInfrastructureFailure(
  failedAgents: ReadonlySet<string>,
  attempts: number,
  message: string,
  now: number,
  policy: RetryPolicy,
): AfterInfrastructureFailure {
  if (failedAgents.size >= policy.poisonAgents) {
    const agents = [...failedAgents].sort().join(', ');
    return { action: 'poison', reason: `poison: brought down ${failedAgents.size} distinct agents (${agents}); not retried automatically (farm retry runs it again). Last error: ${message}` };
  }
  if (attempts >= policy.maxAttempts) {
    return { action: 'give-up', reason: `gave up after ${attempts} attempts; last infrastructure failure: ${message}` };
  }
  return { action: 'retry', notBefore: now + backoffMs(attempts, policy) };
}
