/**
 * LogSource: a job's build log as published by agents (JetStream FARM_LOGS, subject
 * SUBJECTS.logs(jobId)), read back for the gRPC Logs call.
 */
import type { LogChunk__Output } from '@farm/proto';

export interface LogReadOptions {
  /** Keep reading live after the history; ends only when `signal` aborts. */
  readonly follow: boolean;
  readonly signal: AbortSignal;
}

export interface LogSource {
  /**
   * Every chunk of the job's log in publication order (all epochs), from the first. Without
   * `follow` it ends at the last chunk stored when the call began.
   */
  read(jobId: string, options: LogReadOptions): AsyncIterable<LogChunk__Output>;
}
