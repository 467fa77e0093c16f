/**
 * The Logs RPC's reading rule over a LogSource:
 * - without follow: the stored chunks, ending at the stored end;
 * - with follow: stored then live chunks, ending once the job is in a terminal state and the
 *   `eof` chunk of its last attempt (epoch) has been sent — after the history if it never ran
 *   or was finished with its eof stored when the call began. Should that
 *   eof never come (its agent died just as the job was cancelled), the stream ends `graceMs`
 *   after the job became terminal.
 * The job's state is re-checked on every eof chunk and on every committed change of the job.
 */
import type { LogChunk__Output } from '@farm/proto';
import type { LogSource } from '../ports/log-source.js';
import type { FarmService } from './farm-service.js';

export interface FollowDeps {
  readonly service: FarmService;
  readonly logs: LogSource;
  readonly graceMs: number;
}

export async function followLogs(
  deps: FollowDeps,
  jobId: string,
  follow: boolean,
  signal: AbortSignal,
  send: (chunk: LogChunk__Output) => Promise<void>,
): Promise<void> {
  const initial = await deps.service.jobLogState(jobId);
  const eofs = new Set<number>();
  // History first when it may be all there is: without follow, or for a finished job (whose
  // last eof is normally stored already — then nothing live is needed).
  let skip = 0;
  if (!follow || initial.terminal) {
    for await (const chunk of deps.logs.read(jobId, { follow: false, signal })) {
      if (signal.aborted) return;
      await send(chunk);
      skip++;
      if (chunk.eof) eofs.add(Number(chunk.epoch));
    }
    if (!follow || initial.runEpoch === 0 || eofs.has(initial.runEpoch)) return;
  }
  const stop = new AbortController();
  const onOuterAbort = () => stop.abort();
  signal.addEventListener('abort', onOuterAbort);
  let grace: NodeJS.Timeout | undefined;
  const check = async () => {
    if (stop.signal.aborted) return;
    const st = await deps.service.jobLogState(jobId);
    if (!st.terminal) {
      if (grace !== undefined) clearTimeout(grace);
      grace = undefined;
      return;
    }
    if (st.runEpoch === 0 || eofs.has(st.runEpoch)) stop.abort();
    else grace ??= setTimeout(() => stop.abort(), deps.graceMs);
  };
  const recheck = () => void check().catch(() => stop.abort());
  const off = deps.service.onJobChange(jobId, recheck);
  try {
    await check();
    const reading = new AbortController();
    const relay = () => reading.abort();
    stop.signal.addEventListener('abort', relay);
    try {
      for await (const chunk of deps.logs.read(jobId, { follow: true, signal: reading.signal })) {
        if (signal.aborted) return;
        if (skip > 0) {
          skip--;
          continue;
        }
        await send(chunk);
        if (chunk.eof) {
          eofs.add(Number(chunk.epoch));
          await check();
        }
        if (stop.signal.aborted) return;
      }
    } catch (e) {
      if (!reading.signal.aborted) throw e;
    } finally {
      stop.signal.removeEventListener('abort', relay);
    }
  } finally {
    off();
    if (grace !== undefined) clearTimeout(grace);
    signal.removeEventListener('abort', onOuterAbort);
  }
}
