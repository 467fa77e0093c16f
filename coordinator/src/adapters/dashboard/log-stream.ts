/**
 * `/api/jobs/<jobId>/log`: a job's build log as server-sent events, from its first chunk and live
 * until its attempt ends — the reading rule of the gRPC Logs call with follow (followLogs over
 * the same LogSource). Events: `chunk` (DashboardLogChunk, bytes decoded as UTF-8 per attempt so
 * a character split between chunks stays whole), then `end` when the log is complete, or
 * `problem` (DashboardProblem: an unknown job, the coordinator closing) — after either the
 * stream ends and the page closes its EventSource (a reconnect would replay the whole log).
 */
import type { ServerResponse } from 'node:http';
import { TextDecoder } from 'node:util';
import { isFarmError } from '@farm/common';
import type { LogSource } from '../../ports/log-source.js';
import type { FarmService } from '../../service/farm-service.js';
import { followLogs } from '../../service/follow-logs.js';
import type { DashboardLogChunk, DashboardProblem } from './api-types.js';
import { openSse } from './sse.js';

export interface LogStreamDeps {
  readonly service: FarmService;
  readonly logs: LogSource;
  /** How long a finished job's missing eof is waited for (as the gRPC Logs call). */
  readonly graceMs: number;
}

export async function streamJobLog(deps: LogStreamDeps, jobId: string, res: ServerResponse, signal: AbortSignal): Promise<void> {
  const sse = openSse(res, signal);
  const decoders = new Map<number, TextDecoder>();
  try {
    await followLogs({ service: deps.service, logs: deps.logs, graceMs: deps.graceMs }, jobId, true, signal, async (chunk) => {
      const epoch = Number(chunk.epoch);
      let decoder = decoders.get(epoch);
      if (decoder === undefined) decoders.set(epoch, (decoder = new TextDecoder('utf-8')));
      const data: DashboardLogChunk = {
        epoch,
        seq: Number(chunk.seq),
        text: decoder.decode(chunk.data, { stream: !chunk.eof }),
        truncated: chunk.truncated,
        eof: chunk.eof,
      };
      await sse.send('chunk', data);
    });
    if (!signal.aborted) await sse.send('end', {});
  } catch (e) {
    if (!signal.aborted) {
      const problem: DashboardProblem = isFarmError(e) ? { code: e.code, message: e.message } : { code: 'INTERNAL', message: 'the log could not be read' };
      await sse.send('problem', problem);
    }
    if (!isFarmError(e)) throw e;
  } finally {
    sse.end();
  }
}
