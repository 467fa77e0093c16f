/**
 * Turns one build attempt's log byte stream into LogChunk messages on JetStream
 * (`farm.logs.<jobId>`, stream FARM_LOGS), as the agent protocol says:
 * - at most 64 KiB of data per chunk; a partial chunk is flushed 100 ms after its first byte,
 *   so a follower sees output within ~100 ms while it flows;
 * - seq 0, 1, 2, … per (job, epoch), published strictly in order: one publish at a time, each
 *   awaited until JetStream acknowledged it (a failed publish is retried before the next one
 *   starts, with the msg id `<job>:<epoch>:log:<seq>` so a retry whose first try did land is
 *   dropped as a duplicate by the server);
 * - the chunk on which maxLogBytes was reached is cut at exactly maxLogBytes and marked
 *   `truncated`; later bytes are dropped (the sandbox kills the build for it);
 * - finish() publishes whatever is pending and then a chunk with `eof: true` (the last data
 *   chunk itself when there is one).
 * Publishing is retried with capped backoff while the stream is missing or JetStream is
 * unavailable, until `stopRetrying` aborts (agent shutdown), after which each remaining chunk
 * gets one try. Memory: the bytes not yet acknowledged (bounded by maxLogBytes when set).
 */
import { setTimeout as sleep } from 'node:timers/promises';
import { encodeMessage, SUBJECTS } from '@farm/proto';
import type { MsgHdrs } from '@nats-io/transport-node';

export const LOG_CHUNK_MAX_BYTES = 64 * 1024;
export const LOG_FLUSH_MS = 100;

/** JetStream's publish, narrowed to what this needs (so tests can inject failures). */
export type JsPublish = (subject: string, data: Uint8Array, options: { msgID: string; headers?: MsgHdrs }) => Promise<unknown>;

export interface LogPublisherOptions {
  readonly jobId: string;
  readonly epoch: string;
  readonly publish: JsPublish;
  readonly maxLogBytes?: number | undefined;
  readonly stopRetrying?: AbortSignal | undefined;
  /** Called for each failed publish attempt (for logging). */
  readonly onPublishError?: ((error: unknown, seq: number, attempt: number) => void) | undefined;
  readonly flushMs?: number | undefined;
  readonly maxChunkBytes?: number | undefined;
}

interface Pending {
  readonly seq: number;
  readonly data: Buffer;
  readonly truncated: boolean;
  readonly eof: boolean;
}

export class LogPublisher {
  private buffered: Buffer[] = [];
  private bufferedBytes = 0;
  private acceptedBytes = 0;
  private cutOff = false;
  private finished = false;
  private nextSeq = 0;
  private timer: NodeJS.Timeout | undefined;
  private readonly queue: Pending[] = [];
  private pumping: Promise<void> | undefined;
  private dropped = 0;
  private readonly subject: string;
  private readonly flushMs: number;
  private readonly maxChunk: number;

  constructor(private readonly o: LogPublisherOptions) {
    this.subject = SUBJECTS.logs(o.jobId);
    this.flushMs = o.flushMs ?? LOG_FLUSH_MS;
    this.maxChunk = o.maxChunkBytes ?? LOG_CHUNK_MAX_BYTES;
  }

  /** Bytes accepted for publishing (at most maxLogBytes). */
  get bytes(): number {
    return this.acceptedBytes;
  }

  /** Chunks that could not be published before shutdown. */
  get droppedChunks(): number {
    return this.dropped;
  }

  /** The build's onLog: bytes in the order the builder wrote them. */
  write(chunk: Uint8Array): void {
    if (this.finished || this.cutOff || chunk.length === 0) return;
    let data = Buffer.from(chunk.buffer, chunk.byteOffset, chunk.length);
    const limit = this.o.maxLogBytes;
    if (limit !== undefined && this.acceptedBytes + data.length > limit) {
      data = data.subarray(0, limit - this.acceptedBytes);
      this.cutOff = true;
    }
    this.acceptedBytes += data.length;
    // Copy: the caller may reuse its buffer once onLog returns.
    this.buffered.push(Buffer.from(data));
    this.bufferedBytes += data.length;
    this.cutFull();
    if (this.cutOff) {
      this.cut(this.bufferedBytes, true, false);
      this.stopTimer();
    } else if (this.bufferedBytes > 0 && this.timer === undefined) {
      this.timer = setTimeout(() => {
        this.timer = undefined;
        this.cut(this.bufferedBytes, false, false);
      }, this.flushMs);
    }
  }

  /** Flushes the rest, publishes the eof chunk, and resolves when all is acknowledged (or given up). */
  async finish(): Promise<void> {
    if (!this.finished) {
      this.finished = true;
      this.stopTimer();
      this.cut(this.bufferedBytes, false, true);
    }
    while (this.pumping !== undefined) await this.pumping;
  }

  private cutFull(): void {
    while (this.bufferedBytes >= this.maxChunk && !(this.cutOff && this.bufferedBytes === this.maxChunk)) this.cut(this.maxChunk, false, false);
  }

  /** Moves `n` buffered bytes (n may be 0 only for eof) into one queued chunk. */
  private cut(n: number, truncated: boolean, eof: boolean): void {
    if (n === 0 && !eof && !truncated) return;
    const all = this.buffered.length === 1 ? this.buffered[0]! : Buffer.concat(this.buffered, this.bufferedBytes);
    const data = all.subarray(0, n);
    const rest = all.subarray(n);
    this.buffered = rest.length > 0 ? [rest] : [];
    this.bufferedBytes = rest.length;
    this.queue.push({ seq: this.nextSeq++, data, truncated, eof });
    if (this.pumping === undefined) this.pumping = this.pump();
  }

  private stopTimer(): void {
    if (this.timer !== undefined) clearTimeout(this.timer);
    this.timer = undefined;
  }

  /** The one publishing loop; it clears `pumping` in the same tick it finds the queue empty. */
  private async pump(): Promise<void> {
    for (;;) {
      const next = this.queue.shift();
      if (next === undefined) {
        this.pumping = undefined;
        return;
      }
      const bytes = encodeMessage('LogChunk', {
        jobId: this.o.jobId,
        epoch: this.o.epoch,
        seq: String(next.seq),
        data: next.data,
        truncated: next.truncated,
        eof: next.eof,
      });
      if (!(await this.publishWithRetry(bytes, next.seq))) this.dropped++;
    }
  }

  private async publishWithRetry(bytes: Uint8Array, seq: number): Promise<boolean> {
    const msgID = `${this.o.jobId}:${this.o.epoch}:log:${seq}`;
    for (let attempt = 1; ; attempt++) {
      try {
        await this.o.publish(this.subject, bytes, { msgID });
        return true;
      } catch (e) {
        this.o.onPublishError?.(e, seq, attempt);
        if (this.o.stopRetrying?.aborted === true) return false;
        await sleep(Math.min(2000, 50 * 2 ** Math.min(attempt, 6)), undefined, { signal: this.o.stopRetrying }).catch(() => undefined);
      }
    }
  }
}
