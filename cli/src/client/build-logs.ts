/**
 * `farm submit -L`: the build log of every job, streamed while it runs, one callback per line.
 * A follower starts when a job is seen running (Logs with follow) and stops at the `eof` chunk
 * of an attempt it has not finished before — unless the job was seen running again meanwhile
 * (a retry), in which case it goes on to the next attempt. The coordinator's Logs replays a job's whole history,
 * so a follower started for a retry skips every chunk already shown (by epoch and seq) and says
 * when a new attempt begins. Lines are decoded as UTF-8 across chunk boundaries; a last line
 * without a newline is emitted at the attempt's end.
 */
import type { LogChunk__Output, LogsRequest } from '@farm/proto';

export interface LogsApi {
  logs(request: LogsRequest, signal?: AbortSignal): AsyncIterable<LogChunk__Output>;
}

export interface LogJob {
  readonly jobId: string;
  readonly drvPath: string;
  readonly name: string;
}

export interface BuildLogSink {
  line(job: LogJob, line: string): void;
  /** A remark about the log itself: a new attempt, truncation. */
  notice(job: LogJob, text: string): void;
  /** The Logs call failed (the build goes on; only its log is lost). */
  error?(job: LogJob, error: unknown): void;
}

/** Splits a byte stream into lines (without the newline; a trailing \r is dropped). */
export class LineSplitter {
  private decoder = new TextDecoder('utf-8');
  private partial = '';

  push(data: Uint8Array): string[] {
    const text = this.partial + this.decoder.decode(data, { stream: true });
    const parts = text.split('\n');
    this.partial = parts.pop() ?? '';
    return parts.map(stripCr);
  }

  flush(): string[] {
    const rest = this.partial + this.decoder.decode();
    this.partial = '';
    this.decoder = new TextDecoder('utf-8');
    return rest === '' ? [] : [stripCr(rest)];
  }
}

function stripCr(s: string): string {
  return s.endsWith('\r') ? s.slice(0, -1) : s;
}

interface JobLogState {
  readonly job: LogJob;
  readonly splitter: LineSplitter;
  lastEpoch: bigint | undefined;
  lastSeq: bigint;
  readonly finishedEpochs: Set<bigint>;
  attempts: number;
  /** The job started running again while a follower was still on an earlier attempt. */
  rerun: boolean;
  active?: { controller: AbortController; done: Promise<void> };
}

export class BuildLogFollower {
  private readonly jobs = new Map<string, JobLogState>();

  constructor(
    private readonly api: LogsApi,
    private readonly sink: BuildLogSink,
  ) {}

  /** The job is running (again): follow its log unless already following. */
  jobRunning(job: LogJob): void {
    let state = this.jobs.get(job.jobId);
    if (state === undefined) {
      state = { job, splitter: new LineSplitter(), lastEpoch: undefined, lastSeq: -1n, finishedEpochs: new Set(), attempts: 0, rerun: false };
      this.jobs.set(job.jobId, state);
    }
    if (state.active !== undefined) {
      // Keep the active follower going past the end of the attempt it is on.
      state.rerun = true;
      return;
    }
    state.rerun = false;
    const controller = new AbortController();
    const s = state;
    const done = this.follow(s, controller.signal).finally(() => {
      if (s.active?.controller === controller) delete s.active;
    });
    s.active = { controller, done };
  }

  /** Followers still running. */
  get activeCount(): number {
    return [...this.jobs.values()].filter((s) => s.active !== undefined).length;
  }

  /** Waits up to `graceMs` for active followers to reach their eof, then cancels the rest. */
  async drain(graceMs: number): Promise<void> {
    const active = [...this.jobs.values()].flatMap((s) => (s.active !== undefined ? [s.active] : []));
    if (active.length === 0) return;
    let timer: NodeJS.Timeout | undefined;
    const timeout = new Promise<void>((r) => {
      timer = setTimeout(r, graceMs);
    });
    await Promise.race([Promise.all(active.map((a) => a.done)), timeout]);
    clearTimeout(timer);
    this.stop();
    await Promise.all(active.map((a) => a.done));
  }

  /** Cancels every follower now. */
  stop(): void {
    for (const s of this.jobs.values()) s.active?.controller.abort();
  }

  private async follow(s: JobLogState, signal: AbortSignal): Promise<void> {
    try {
      for await (const chunk of this.api.logs({ jobId: s.job.jobId, follow: true }, signal)) {
        if (this.accept(s, chunk)) return;
      }
    } catch (e) {
      if (!signal.aborted) this.sink.error?.(s.job, e);
    }
  }

  /** Emits what is new in the chunk; returns true when the attempt being followed ended. */
  private accept(s: JobLogState, chunk: LogChunk__Output): boolean {
    const epoch = BigInt(chunk.epoch);
    const seq = BigInt(chunk.seq);
    if (s.finishedEpochs.has(epoch)) return false;
    if (s.lastEpoch !== undefined && (epoch < s.lastEpoch || (epoch === s.lastEpoch && seq <= s.lastSeq))) return false;
    if (s.lastEpoch === undefined || epoch !== s.lastEpoch) {
      if (s.lastEpoch !== undefined) for (const l of s.splitter.flush()) this.sink.line(s.job, l);
      s.attempts++;
      if (s.attempts > 1) this.sink.notice(s.job, `--- attempt ${s.attempts} ---`);
      s.lastEpoch = epoch;
    }
    s.lastSeq = seq;
    for (const l of s.splitter.push(chunk.data)) this.sink.line(s.job, l);
    if (chunk.truncated) this.sink.notice(s.job, "(log truncated: the farm's log limit was reached)");
    if (!chunk.eof) return false;
    for (const l of s.splitter.flush()) this.sink.line(s.job, l);
    s.finishedEpochs.add(epoch);
    if (s.rerun) {
      s.rerun = false;
      return false;
    }
    return true;
  }
}
