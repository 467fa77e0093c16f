/**
 * The coordinator's side of the agent protocol over NATS core request/reply: register,
 * heartbeat and work requests (queue group `coordinator`, so standby coordinators could share
 * the subjects) are decoded, handed to the AgentApi and answered with protobuf bodies or the
 * error headers. Revocations from the service are published on the agent's control subject.
 *
 * Each request is handled on its own promise: a work request is a long poll of up to ~20 s and
 * must not hold up heartbeats behind it. close() stops taking requests, aborts every pending
 * long poll (their agents get an empty WorkReply and simply ask again) and waits for all
 * handlers to finish, so nothing touches the service after close resolves.
 */
import type { Logger } from '@farm/common';
import {

  encodeMessage,
  SUBJECTS,
  type AgentHello__Output,
  type Heartbeat__Output,
  type Revoke,
  type WorkReply,
  type WorkRequest__Output,
} from '@farm/proto';
import type { Msg, MsgHdrs, NatsConnection, Subscription } from '@nats-io/transport-node';
import { decodePayload } from './decode.js';
import type { AgentApi } from '../../ports/agent-api.js';
import { errorHeaders, farmErrorOf } from './error-reply.js';
import { workReplyHeaders, type LeaseContextOf } from './trace-headers.js';
import { NO_OBSERVER, type CoordinatorObserver } from '../metrics/observer.js';

export const COORDINATOR_QUEUE_GROUP = 'coordinator';

export interface AgentGatewayOptions {
  readonly nc: NatsConnection;
  readonly api: AgentApi;
  readonly logger: Logger;
  /** Tracing: the context of a lease's span, sent to the agent in the WorkReply's headers. */
  readonly leaseContext?: LeaseContextOf | undefined;
  /** Metrics: requests answered with an error, replies that could not be sent, inline NAR bytes sent. */
  readonly observer?: CoordinatorObserver | undefined;
}

export interface AgentGateway {
  /** Number of requests being handled right now (long polls included). */
  readonly inFlight: number;
  close(): Promise<void>;
}

interface Route {
  /** For metrics: register, heartbeat, work-request. */
  readonly operation: string;
  readonly subject: string;
  readonly requestType: string;
  readonly replyType: string;
  readonly call: (request: never, signal: AbortSignal) => Promise<object>;
  /** Headers of a successful reply (trace context). */
  readonly headersOf?: (request: never, reply: never) => MsgHdrs | undefined;
}

export function startAgentGateway(options: AgentGatewayOptions): AgentGateway {
  const { nc, api, logger } = options;
  const observer = options.observer ?? NO_OBSERVER;
  const handlers = new Set<Promise<void>>();
  const polls = new Set<AbortController>();
  let closed = false;

  const routes: Route[] = [
    { operation: 'register', subject: SUBJECTS.register, requestType: 'AgentHello', replyType: 'AgentWelcome', call: (r: AgentHello__Output) => api.register(r) },
    { operation: 'heartbeat', subject: SUBJECTS.heartbeat, requestType: 'Heartbeat', replyType: 'HeartbeatAck', call: (r: Heartbeat__Output) => api.heartbeat(r) },
    {
      operation: 'work-request',
      subject: SUBJECTS.workRequest,
      requestType: 'WorkRequest',
      replyType: 'WorkReply',
      call: async (r: WorkRequest__Output, signal: AbortSignal) => {
        const reply = await api.requestWork(r, signal);
        for (const a of reply.assignments ?? []) for (const n of a.inputNars ?? []) observer.bytesSent('inline', (n.nar as Uint8Array | undefined)?.length ?? 0);
        return reply;
      },
      headersOf: (r: WorkRequest__Output, reply: WorkReply) => workReplyHeaders(reply, r.agentId, options.leaseContext),
    },
  ];

  const handle = async (route: Route, msg: Msg): Promise<void> => {
    const controller = new AbortController();
    polls.add(controller);
    try {
      let body: Uint8Array;
      let replyHeaders: MsgHdrs | undefined;
      try {
        const request = decodePayload<never>(route.requestType, msg.data);
        const reply = await route.call(request, controller.signal);
        body = encodeMessage(route.replyType, reply as Record<string, unknown>);
        replyHeaders = route.headersOf?.(request, reply as never);
      } catch (e) {
        const err = farmErrorOf(e);
        observer.natsError(route.operation);
        if (err.code === 'INTERNAL') logger.error({ err: e, subject: msg.subject }, 'agent request failed');
        else logger.debug({ code: err.code, message: err.message, subject: msg.subject }, 'agent request refused');
        respond(msg, new Uint8Array(0), errorHeaders(err.code, err.message));
        return;
      }
      respond(msg, body, replyHeaders);
    } finally {
      polls.delete(controller);
    }
  };

  const respond = (msg: Msg, body: Uint8Array, headers?: MsgHdrs): void => {
    if (nc.isClosed()) return;
    try {
      msg.respond(body, headers === undefined ? undefined : { headers });
    } catch (e) {
      // The connection may be closing under us; the agent retries on its own timeout.
      observer.natsError('reply');
      logger.debug({ err: e, subject: msg.subject }, 'could not reply to an agent request');
    }
  };

  const subscriptions: Subscription[] = routes.map((route) =>
    nc.subscribe(route.subject, {
      queue: COORDINATOR_QUEUE_GROUP,
      callback: (err, msg) => {
        if (err !== null) {
          logger.error({ err, subject: route.subject }, 'agent subscription failed');
          return;
        }
        if (closed) return;
        if (msg.reply === undefined || msg.reply === '') {
          logger.debug({ subject: msg.subject }, 'ignoring an agent request without a reply subject');
          return;
        }
        const p = handle(route, msg).catch((e: unknown) => logger.error({ err: e, subject: msg.subject }, 'agent request handler crashed'));
        handlers.add(p);
        void p.finally(() => handlers.delete(p));
      },
    }),
  );

  const unsubscribeRevoke = api.onRevoke((agentId: string, revoke: Revoke) => {
    if (closed || nc.isClosed()) return;
    try {
      nc.publish(SUBJECTS.control(agentId), encodeMessage('Revoke', revoke as Record<string, unknown>));
    } catch (e) {
      logger.warn({ err: e, agentId }, 'could not publish a revocation');
    }
  });

  let closing: Promise<void> | undefined;
  return {
    get inFlight() {
      return handlers.size;
    },
    close() {
      closing ??= (async () => {
        closed = true;
        for (const sub of subscriptions) {
          try {
            sub.unsubscribe();
          } catch {
            // already closed with the connection
          }
        }
        for (const c of polls) c.abort();
        await Promise.allSettled([...handlers]);
        unsubscribeRevoke();
      })();
      return closing;
    },
  };
}
