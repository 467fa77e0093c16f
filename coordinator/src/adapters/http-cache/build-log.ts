/**
 * The build log `log/<drv>` serves: the chunks of the job's last attempt (highest epoch), which
 * is what Nix would have stored for the build that produced the outputs. LogSource gives every
 * epoch in publication order, and which epoch is last is known only at the end, so the log is
 * read twice — once to find the last epoch, its byte count and chunk count, once to stream
 * exactly those chunks — instead of holding up to a whole log (64 MiB by default) in memory.
 * Chunks published between the two reads (a build still running) are left for the next request,
 * so the length announced up front is the length sent.
 */
import type { LogSource } from '../../ports/log-source.js';

export interface BuildLog {
  readonly size: number;
  chunks(signal: AbortSignal): AsyncIterable<Uint8Array>;
}

/** undefined when the job has no log at all. */
export async function lastAttemptLog(logs: LogSource, jobId: string, signal: AbortSignal): Promise<BuildLog | undefined> {
  let epoch: bigint | undefined;
  let size = 0;
  let count = 0;
  for await (const c of logs.read(jobId, { follow: false, signal })) {
    const e = BigInt(c.epoch);
    if (epoch === undefined || e > epoch) {
      epoch = e;
      size = 0;
      count = 0;
    }
    if (e === epoch) {
      size += c.data.length;
      count++;
    }
  }
  if (epoch === undefined) return undefined;
  const last = epoch;
  return {
    size,
    async *chunks(signal2: AbortSignal) {
      let left = count;
      if (left === 0) return;
      for await (const c of logs.read(jobId, { follow: false, signal: signal2 })) {
        if (BigInt(c.epoch) !== last) continue;
        if (c.data.length > 0) yield c.data;
        if (--left === 0) return;
      }
    },
  };
}
