/**
 * Following a submission to its end. Watch replays from a sequence number, so when the stream
 * breaks (coordinator restart, network) or ends before the final event, it is reopened from the
 * next sequence after the last one seen and nothing is missed or shown twice. Gives up after
 * `maxRetries` consecutive failures without progress.
 */
import { isFarmError } from '@farm/common';
import type { SubmissionEvent__Output } from '@farm/proto';

export interface WatchApi {
  watch(submissionId: string, fromSequence?: number): AsyncIterable<SubmissionEvent__Output>;
}

export interface FollowOptions {
  readonly maxRetries?: number;
  /** Wait before reconnect attempt n (1-based); default 250 ms × n, at most 5 s. */
  readonly backoffMs?: (attempt: number) => number;
  readonly onReconnect?: (attempt: number, error: unknown) => void;
  readonly sleep?: (ms: number) => Promise<void>;
}

export async function* followSubmission(api: WatchApi, submissionId: string, options: FollowOptions = {}): AsyncGenerator<SubmissionEvent__Output> {
  const maxRetries = options.maxRetries ?? 20;
  const backoff = options.backoffMs ?? ((n: number) => Math.min(5000, 250 * n));
  const sleep = options.sleep ?? ((ms: number) => new Promise<void>((r) => setTimeout(r, ms)));
  let last = 0n;
  let failures = 0;
  for (;;) {
    let progressed = false;
    let error: unknown;
    try {
      for await (const e of api.watch(submissionId, last === 0n ? 0 : Number(last + 1n))) {
        const seq = BigInt(e.sequence === '' ? '0' : e.sequence);
        if (seq !== 0n && seq <= last) continue;
        if (seq > last) last = seq;
        progressed = true;
        yield e;
        if (e.final) return;
      }
      error = new Error('the Watch stream ended before the final event');
    } catch (e) {
      // Only transport trouble is worth a retry; NOT_FOUND and the like are answers.
      if (!isFarmError(e, 'UNAVAILABLE')) throw e;
      error = e;
    }
    failures = progressed ? 1 : failures + 1;
    if (failures > maxRetries) throw error;
    options.onReconnect?.(failures, error);
    await sleep(backoff(failures));
  }
}
