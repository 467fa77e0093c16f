/**
 * Branded ids: a JobId can't be passed where a SubmissionId is expected even though both are
 * strings at run time. Ids come from an injected IdGenerator so core logic stays deterministic
 * under test.
 */
import { randomBytes } from 'node:crypto';

declare const brand: unique symbol;
export type Brand<T, B extends string> = T & { readonly [brand]: B };

export type JobId = Brand<string, 'JobId'>;
export type SubmissionId = Brand<string, 'SubmissionId'>;
export type AgentId = Brand<string, 'AgentId'>;

export interface IdGenerator {
  next(prefix: string): string;
}

/** Random, URL-safe ids (`<prefix>_<16 hex>`); sortable only by nothing — use clocks for order. */
export const randomIds: IdGenerator = {
  next: (prefix) => `${prefix}_${randomBytes(8).toString('hex')}`,
};

/** Deterministic ids for tests: `<prefix>_1`, `<prefix>_2`, … per prefix. */
export function sequentialIds(): IdGenerator {
  const counters = new Map<string, number>();
  return {
    next(prefix) {
      const n = (counters.get(prefix) ?? 0) + 1;
      counters.set(prefix, n);
      return `${prefix}_${n}`;
    },
  };
}

export const newJobId = (ids: IdGenerator): JobId => ids.next('job') as JobId;
export const newSubmissionId = (ids: IdGenerator): SubmissionId => ids.next('sub') as SubmissionId;
export const newAgentId = (ids: IdGenerator): AgentId => ids.next('agent') as AgentId;
