/**
 * Counting wrappers around what a build attempt uses, so that run-attempt.ts and the session
 * stay free of metrics code: the local store's fetchMissing (input bytes fetched), AddPath
 * (output bytes uploaded), JetStream publishes (failures; and each published BuildResult —
 * decoded again here — gives the build's outcome, duration and inline output bytes), and the
 * NATS connection's requests (failures by operation). Each wrapper behaves exactly like what
 * it wraps.
 */
import { decodeMessage, SUBJECTS, type BuildResult__Output } from '@farm/proto';
import type { NatsConnection } from '@nats-io/transport-node';
import type { JsPublish } from '../logs/log-publisher.js';
import type { LocalStore } from '../store/local-store.js';
import type { UploadRequest } from '../transfer/nar-transfer.js';
import type { AgentMetrics } from './agent-metrics.js';

const RESULTS_PREFIX = SUBJECTS.results('x').slice(0, -1);
const LOGS_PREFIX = SUBJECTS.logs('x').slice(0, -1);

/** The store, with fetchMissing counting the bytes it fetched (every other member unchanged). */
export function countingStore(store: LocalStore, metrics: AgentMetrics): LocalStore {
  const counting = Object.create(store) as LocalStore;
  counting.fetchMissing = async (inputs, fetchNar, signal) => {
    const r = await store.fetchMissing(inputs, fetchNar, signal);
    metrics.bytesDownloaded(r.bytes);
    return r;
  };
  return counting;
}

export function countingAddPath<R>(addPath: (req: UploadRequest) => Promise<R>, metrics: AgentMetrics): (req: UploadRequest) => Promise<R> {
  return async (req) => {
    const r = await addPath(req);
    metrics.bytesUploaded('grpc', Number(req.info.narSize ?? 0));
    return r;
  };
}

export function countingPublish(publish: JsPublish, metrics: AgentMetrics): JsPublish {
  return async (subject, data, options) => {
    let ack: unknown;
    try {
      ack = await publish(subject, data, options);
    } catch (e) {
      metrics.natsError(subject.startsWith(RESULTS_PREFIX) ? 'publish-result' : subject.startsWith(LOGS_PREFIX) ? 'publish-log' : 'publish');
      throw e;
    }
    if (subject.startsWith(RESULTS_PREFIX)) {
      try {
        const result = decodeMessage<BuildResult__Output>('BuildResult', data);
        metrics.buildReported(result.status, Number(result.stopMs) - Number(result.startMs));
        metrics.bytesUploaded('inline', (result.outputNars ?? []).reduce((n, o) => n + (o.nar?.length ?? 0), 0));
      } catch {
        // not a result we can read: nothing to count (the coordinator will say so)
      }
    }
    return ack;
  };
}

/** Operation names of the agent protocol's requests, for the NATS error counter. */
const REQUEST_OPERATIONS: Readonly<Record<string, string>> = {
  [SUBJECTS.register]: 'register',
  [SUBJECTS.heartbeat]: 'heartbeat',
  [SUBJECTS.workRequest]: 'work-request',
};

/**
 * The connection, with request() counting its failures — timeouts, no responders, and replies
 * carrying the protocol's error headers (an error the coordinator sent) — by operation.
 */
export function countingRequests(nc: NatsConnection, metrics: AgentMetrics): NatsConnection {
  const request: NatsConnection['request'] = async (subject, payload, opts) => {
    const operation = REQUEST_OPERATIONS[subject] ?? 'request';
    try {
      const msg = await nc.request(subject, payload, opts);
      if ((msg.headers?.get('farm-error-code') ?? '') !== '') metrics.natsError(operation);
      return msg;
    } catch (e) {
      metrics.natsError(operation);
      throw e;
    }
  };
  // Methods are bound once, not on every access: logs and heartbeats go through here all the time.
  const bound = new Map<PropertyKey, unknown>();
  return new Proxy(nc, {
    get(target, prop) {
      if (prop === 'request') return request;
      const v: unknown = Reflect.get(target, prop, target);
      if (typeof v !== 'function') return v;
      let b = bound.get(prop);
      if (b === undefined) bound.set(prop, (b = (v as (...a: unknown[]) => unknown).bind(target)));
      return b;
    },
  });
}

/** Counts the connection's disconnects and errors (its own status iterator; nats.js allows several). */
export function watchNatsStatus(nc: NatsConnection, metrics: AgentMetrics): void {
  void (async () => {
    for await (const s of nc.status()) {
      if (s.type === 'disconnect' || s.type === 'error') metrics.natsError(`connection-${s.type}`);
    }
  })().catch(() => undefined);
}
