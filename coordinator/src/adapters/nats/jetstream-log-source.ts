/**
 * LogSource over FARM_LOGS: an ordered (ephemeral, flow-controlled, gap-free) consumer filtered
 * on the job's subject, from the first chunk. Without `follow`, the read ends at the last chunk
 * that was stored when it began (looked up by subject first, so a chunk published meanwhile is
 * not waited for); with `follow`, it keeps yielding live chunks until the signal aborts.
 * A chunk that does not decode is skipped (logged): one bad publisher must not break a log.
 */
import { FarmError, type Logger } from '@farm/common';
import { STREAMS, SUBJECTS, type LogChunk__Output } from '@farm/proto';
import { DeliverPolicy, type JetStreamClient, type JetStreamManager } from '@nats-io/jetstream';
import { decodePayload } from './decode.js';
import type { LogReadOptions, LogSource } from '../../ports/log-source.js';
import { isStreamNotFound } from './streams.js';

export class JetStreamLogSource implements LogSource {
  constructor(
    private readonly js: JetStreamClient,
    private readonly jsm: JetStreamManager,
    private readonly logger: Logger,
  ) {}

  async *read(jobId: string, options: LogReadOptions): AsyncIterable<LogChunk__Output> {
    const { follow, signal } = options;
    const subject = SUBJECTS.logs(jobId);
    if (signal.aborted) return;

    let lastSeq = Number.POSITIVE_INFINITY;
    if (!follow) {
      const last = await this.lastSequence(subject);
      if (last === undefined) return;
      lastSeq = last;
    }

    let consumer;
    try {
      consumer = await this.js.consumers.get(STREAMS.logs.name, { filter_subjects: subject, deliver_policy: DeliverPolicy.All });
    } catch (e) {
      throw new FarmError('UNAVAILABLE', `cannot read the log of ${jobId}: ${(e as Error).message}`, {}, { cause: e });
    }
    const messages = await consumer.consume({ max_messages: 512 });
    const stop = () => void messages.close().catch(() => undefined);
    signal.addEventListener('abort', stop, { once: true });
    try {
      if (signal.aborted) return;
      for await (const m of messages) {
        if (m.seq > lastSeq) break;
        try {
          yield decodePayload<LogChunk__Output>('LogChunk', m.data);
        } catch (e) {
          this.logger.warn({ err: e, jobId, seq: m.seq }, 'skipping a malformed log chunk');
        }
        // pending is what is left for this filter: 0 means nothing more is stored (covers a
        // last chunk that expired between the lookup and the read).
        if (m.seq >= lastSeq || (!follow && m.info.pending === 0)) break;
      }
    } finally {
      signal.removeEventListener('abort', stop);
      await messages.close().catch(() => undefined);
    }
  }

  /** The stream sequence of the newest chunk on `subject`, or undefined when there is none. */
  private async lastSequence(subject: string): Promise<number | undefined> {
    try {
      const last = await this.jsm.streams.getMessage(STREAMS.logs.name, { last_by_subj: subject });
      return last?.seq;
    } catch (e) {
      if (isStreamNotFound(e)) return undefined;
      throw new FarmError('UNAVAILABLE', `cannot read logs: ${(e as Error).message}`, {}, { cause: e });
    }
  }
}
