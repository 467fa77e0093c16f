/**
 * Applies the BuildResults agents publish on FARM_RESULTS through the durable consumer
 * `coordinator` (explicit ack, deliver all), so a result published while the coordinator was
 * down is applied when it comes back. One message at a time, in stream order:
 * - applied (accepted or refused) → ack, after applyResult resolved, i.e. after the LMDB commit;
 * - undecodable, or refused by a thrown non-transient FarmError → logged and terminated (it can
 *   never succeed; redelivering it forever would only block nothing and spam the log);
 * - anything else (the store is unavailable, an internal error) → nak with a growing delay.
 * Duplicates are dropped by JetStream's msg-id window and, beyond it, by applyResult's
 * idempotence, so an ack lost in a reconnect costs nothing but a no-op.
 *
 * The consume loop survives nats-server restarts (nats.js re-pulls after reconnecting); if the
 * iterator still ends or fails (stream or consumer gone, e.g. a server that lost its store), the
 * loop ensures the streams and the consumer again and resumes after a short pause.
 */
import { ATTR, extractFromHeaders, hasSpan, isFarmError, recording, ROOT_CONTEXT, SpanKind, withSpan, type Logger } from '@farm/common';
import { STREAMS, type BuildResult__Output } from '@farm/proto';
import {
  AckPolicy,
  DeliverPolicy,
  JetStreamApiCodes,
  JetStreamApiError,
  type ConsumerMessages,
  type JetStreamClient,
  type JetStreamManager,
  type JsMsg,
} from '@nats-io/jetstream';
import { nanos } from '@nats-io/transport-node';
import { decodePayload } from './decode.js';
import type { AgentApi, ApplyResultOutcome } from '../../ports/agent-api.js';
import { ensureFarmStreams } from './streams.js';
import { NO_OBSERVER, type CoordinatorObserver } from '../metrics/observer.js';

export const RESULTS_CONSUMER_NAME = 'coordinator';

export interface ResultsConsumerOptions {
  readonly js: JetStreamClient;
  readonly jsm: JetStreamManager;
  readonly api: AgentApi;
  readonly logger: Logger;
  /** Delay before redelivery of a message that failed transiently (default: 500 ms doubling, ≤ 30 s). */
  readonly nakDelayMs?: (deliveryCount: number) => number;
  /** Pause before re-entering the consume loop after it ended unexpectedly (default 1000 ms). */
  readonly retryPauseMs?: number;
  /** Metrics: every applied result (builds by outcome), malformed, refused and retried ones. */
  readonly observer?: CoordinatorObserver | undefined;
}

export interface ResultsConsumer {
  close(): Promise<void>;
}

const defaultNakDelay = (deliveryCount: number): number => Math.min(30_000, 500 * 2 ** Math.min(10, Math.max(0, deliveryCount - 1)));

/** Creates the durable consumer when missing (idempotent). */
export async function ensureResultsConsumer(jsm: JetStreamManager): Promise<void> {
  try {
    await jsm.consumers.info(STREAMS.results.name, RESULTS_CONSUMER_NAME);
    return;
  } catch (e) {
    if (!(e instanceof JetStreamApiError && e.code === JetStreamApiCodes.ConsumerNotFound)) throw e;
  }
  await jsm.consumers.add(STREAMS.results.name, {
    durable_name: RESULTS_CONSUMER_NAME,
    ack_policy: AckPolicy.Explicit,
    deliver_policy: DeliverPolicy.All,
    // applyResult commits to LMDB; a minute is far beyond any commit, and a redelivery is a no-op.
    ack_wait: nanos(60_000),
    max_ack_pending: 1024,
  });
}

export async function startResultsConsumer(options: ResultsConsumerOptions): Promise<ResultsConsumer> {
  const { js, jsm, api, logger } = options;
  const nakDelay = options.nakDelayMs ?? defaultNakDelay;
  const retryPauseMs = options.retryPauseMs ?? 1000;
  const observer = options.observer ?? NO_OBSERVER;
  const stop = new AbortController();
  let messages: ConsumerMessages | undefined;

  await ensureResultsConsumer(jsm);

  const process = async (m: JsMsg): Promise<void> => {
    let result: BuildResult__Output;
    try {
      result = decodePayload<BuildResult__Output>('BuildResult', m.data);
    } catch (e) {
      logger.warn({ err: e, subject: m.subject, seq: m.seq }, 'dropping a malformed BuildResult');
      observer.natsError('result-malformed');
      m.term(); // no reason: nats-server 2.9 only understands a bare +TERM
      return;
    }
    const where = { jobId: result.lease?.jobId, epoch: result.lease?.epoch, agentId: result.agentId, status: result.status, seq: m.seq };
    try {
      const outcome = await traced(m, result, () => api.applyResult(result));
      observer.resultApplied(result, outcome);
      if (outcome.accepted) logger.debug(where, 'build result applied');
      else logger.info({ ...where, reason: outcome.reason }, 'build result refused');
      m.ack();
    } catch (e) {
      if (isFarmError(e) && e.code !== 'UNAVAILABLE' && e.code !== 'INTERNAL') {
        logger.warn({ ...where, code: e.code, message: e.message }, 'build result refused with an error');
        observer.natsError('result-refused');
        m.term();
        return;
      }
      const delay = nakDelay(m.info.deliveryCount);
      logger.warn({ ...where, err: e, retryInMs: delay }, 'build result not applied; will retry');
      observer.natsError('result-nak');
      m.nak(delay);
    }
  };

  const loop = async (): Promise<void> => {
    let ensure = false;
    while (!stop.signal.aborted) {
      try {
        if (ensure) {
          await ensureFarmStreams(jsm);
          await ensureResultsConsumer(jsm);
        }
        const consumer = await js.consumers.get(STREAMS.results.name, RESULTS_CONSUMER_NAME);
        if (stop.signal.aborted) break;
        messages = await consumer.consume({ max_messages: 64 });
        if (stop.signal.aborted) break;
        watchStatus(messages, logger);
        for await (const m of messages) {
          await process(m);
          if (stop.signal.aborted) break;
        }
        if (!stop.signal.aborted) {
          logger.warn('results consumer ended; resuming');
          observer.natsError('results-consumer');
        }
      } catch (e) {
        if (stop.signal.aborted) break;
        logger.warn({ err: e }, 'results consumer failed; resuming');
        observer.natsError('results-consumer');
      } finally {
        await messages?.close().catch(() => undefined);
        messages = undefined;
      }
      ensure = true;
      await sleep(retryPauseMs, stop.signal);
    }
  };

  const running = loop();
  let closing: Promise<void> | undefined;
  return {
    close() {
      closing ??= (async () => {
        stop.abort();
        await messages?.close().catch(() => undefined);
        await running;
      })();
      return closing;
    },
  };
}

/**
 * Applies a result inside the span `apply result`, child of the agent's `build` span when the
 * message's headers carry its traceparent (trace-headers.ts); untraced otherwise.
 */
function traced(m: JsMsg, result: BuildResult__Output, apply: () => Promise<ApplyResultOutcome>): Promise<ApplyResultOutcome> {
  const parent = extractFromHeaders(m.headers, ROOT_CONTEXT);
  if (!hasSpan(parent)) return apply();
  const attributes = {
    [ATTR.messagingSystem]: 'nats',
    [ATTR.messagingDestination]: m.subject,
    [ATTR.messagingOperation]: 'process',
    [ATTR.jobId]: result.lease?.jobId ?? '',
    [ATTR.epoch]: Number(result.lease?.epoch ?? 0),
    [ATTR.agent]: result.agentId,
    'farm.build_status': String(result.status),
  };
  return withSpan(
    'apply result',
    attributes,
    async (span) => {
      const outcome = await apply();
      if (recording(span)) span.setAttribute(ATTR.outcome, outcome.accepted ? 'accepted' : `refused: ${outcome.reason ?? ''}`);
      return outcome;
    },
    { parent, kind: SpanKind.CONSUMER },
  );
}

/**
 * nats.js reports a vanished stream or consumer as notifications and keeps retrying; after a
 * few in a row, stop the iterator so the loop above recreates them.
 */
function watchStatus(messages: ConsumerMessages, logger: Logger): void {
  void (async () => {
    for await (const s of messages.status()) {
      if ((s.type === 'consumer_not_found' && s.count >= 3) || s.type === 'stream_not_found' || s.type === 'consumer_deleted') {
        logger.warn({ status: s }, 'results consumer lost its stream or consumer');
        messages.stop();
        return;
      }
    }
  })().catch(() => undefined);
}

function sleep(ms: number, signal: AbortSignal): Promise<void> {
  return new Promise((resolve) => {
    if (signal.aborted) return resolve();
    const t = setTimeout(done, ms);
    function done() {
      clearTimeout(t);
      signal.removeEventListener('abort', done);
      resolve();
    }
    signal.addEventListener('abort', done, { once: true });
  });
}
