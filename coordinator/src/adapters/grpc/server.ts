/**
 * The coordinator's gRPC server: every Coordinator RPC over FarmService (submissions, agents,
 * uploads with lease fencing), FarmStore (QueryMissing, GetNar) and LogSource (Logs).
 * Handlers never throw past this file: every failure goes through toServiceError. Streams
 * respect backpressure (write → wait for 'drain') and stop when the client cancels.
 */
import { once } from 'node:events';
import { Server, ServerCredentials, type handleUnaryCall, type ServerWritableStream, type ServiceError } from '@grpc/grpc-js';
import { FARM_ERROR_METADATA_KEY, FarmError, type Logger } from '@farm/common';
import { isStorePath } from '@farm/nix';
import { coordinatorServiceDefinition, GRPC_CHANNEL_OPTIONS, type CoordinatorHandlers } from '@farm/proto';
import type { FarmStore } from '../../ports/farm-store.js';
import type { LogSource } from '../../ports/log-source.js';
import { FARM_VERSION, type FarmService } from '../../service/farm-service.js';
import { eventToProto } from '../../service/views.js';
import { uint } from '../../service/validate.js';
import { toServiceError } from './errors.js';
import { followLogs } from '../../service/follow-logs.js';
import { narChunksOf } from './uploads.js';
import { serveNixSession, type NixSessionCall } from './nix-session.js';
import { serverSpan } from './tracing.js';
import type { NixDoor } from '../nix-door/session-api.js';
import type { GetDoorInfoResponse } from '@farm/proto';
import { NO_OBSERVER, type CoordinatorObserver } from '../metrics/observer.js';

export interface GrpcServerDeps {
  readonly service: FarmService;
  readonly store: FarmStore;
  readonly logs: LogSource;
  readonly logger: Logger;
  /** How long a followed log waits for the eof of a finished job's last attempt (default 10 s). */
  readonly logEofGraceMs?: number;
  /** The Nix door (NixSession); without it NixSession is UNAVAILABLE. */
  readonly door?: NixDoor | undefined;
  /** Where the door listens (GetDoorInfo); read on each call, since the door starts after gRPC. */
  readonly doorInfo?: (() => GetDoorInfoResponse) | undefined;
  /** Metrics: errors by method and code, NAR bytes in (AddPath) and out (GetNar). */
  readonly observer?: CoordinatorObserver | undefined;
}

export interface RunningGrpcServer {
  /** `host:port` actually bound (the port is picked when `listen` asks for 0). */
  readonly address: string;
  close(): Promise<void>;
}

const NAR_CHUNK = 1024 * 1024;

export async function startGrpcServer(deps: GrpcServerDeps, listen: string): Promise<RunningGrpcServer> {
  const { service, store, logger } = deps;
  const server = new Server({ ...GRPC_CHANNEL_OPTIONS });
  const observer = deps.observer ?? NO_OBSERVER;

  /** The one way a handler's failure becomes a gRPC error (and is counted). */
  function fail(e: unknown, rpc: string): Partial<ServiceError> {
    const se = toServiceError(e, logger, rpc);
    observer.grpcError(rpc, String(se.metadata?.get(FARM_ERROR_METADATA_KEY)[0] ?? 'INTERNAL'));
    return se;
  }

  function unary<Req, Res>(rpc: string, fn: (req: Req) => Promise<Res> | Res): handleUnaryCall<Req, Res> {
    return (call, callback) => {
      Promise.resolve()
        .then(() => serverSpan(rpc, call.metadata, async () => fn(call.request)))
        .then(
          (res) => callback(null, res),
          (e: unknown) => callback(fail(e, rpc)),
        );
    };
  }

  /** Open server streams, ended with UNAVAILABLE on close so clients reconnect at once. */
  const open = new Set<(e: FarmError) => void>();

  /** A server-streaming or bidirectional call: ended when `fn` settles, aborted when the client cancels. */
  function streaming<Call extends StreamingCall>(rpc: string, fn: (call: Call, signal: AbortSignal) => Promise<void>) {
    return (call: Call): void => {
      const ac = new AbortController();
      let settled = false;
      const finish = (e?: unknown) => {
        if (settled) return;
        settled = true;
        open.delete(finish);
        ac.abort();
        if (call.cancelled) return;
        if (e === undefined) call.end();
        else call.emit('error', fail(e, rpc));
      };
      open.add(finish);
      call.on('cancelled', () => finish());
      fn(call, ac.signal).then(
        () => finish(),
        (e: unknown) => finish(e ?? new Error('stream failed')),
      );
    };
  }

  const handlers: CoordinatorHandlers = {
    GetInfo: unary('GetInfo', () => ({ version: FARM_VERSION, storeDir: service.storeDir, agents: service.agentCapabilities() })),

    QueryMissing: unary('QueryMissing', async (req) => {
      if (!Array.isArray(req.paths) || req.paths.length > 1_000_000) throw new FarmError('INVALID_ARGUMENT', 'paths must be a list of at most 1,000,000 store paths');
      for (const p of req.paths) {
        if (typeof p !== 'string' || !isStorePath(p)) throw new FarmError('INVALID_ARGUMENT', `'${String(p)}' is not a store path`);
      }
      return { missing: await store.missing(req.paths) };
    }),

    AddPath: (call, callback) => {
      serverSpan('AddPath', call.metadata, () =>
        narChunksOf(call).then(({ header, nar }) => service.addPath(header, counted(nar, (n) => observer.bytesReceived(hasLease(header) ? 'agent' : 'client', n)))),
      ).then(
        (res) => callback(null, res),
        (e: unknown) => callback(fail(e, 'AddPath')),
      );
    },

    AddDerivations: unary('AddDerivations', (req) => {
      // The ATerms are the bytes of those .drv paths' contents: client uploads like AddPath's.
      for (const d of Array.isArray(req.derivations) ? req.derivations : []) observer.bytesReceived('client', d?.aterm?.length ?? 0);
      return service.addDerivations(req);
    }),

    GetNar: streaming('GetNar', (call, signal) => serverSpan('GetNar', call.metadata, async () => {
      const path = call.request.path;
      if (typeof path !== 'string' || !isStorePath(path)) throw new FarmError('INVALID_ARGUMENT', `'${String(path)}' is not a store path`);
      const stream = await store.narStream(path);
      try {
        for await (const chunk of stream as AsyncIterable<Buffer>) {
          for (let i = 0; i < chunk.length; i += NAR_CHUNK) {
            if (signal.aborted) return;
            const data = chunk.subarray(i, i + NAR_CHUNK);
            await write(call, { data }, signal);
            observer.bytesSent('grpc', data.length);
          }
        }
      } finally {
        stream.destroy();
      }
    })),

    Submit: unary('Submit', (req) => service.submit(req)),

    Watch: streaming('Watch', async (call, signal) => {
      const events = service.watch(call.request.submissionId, uint(call.request.fromSequence, 'fromSequence'), signal);
      for await (const e of events) {
        if (signal.aborted) return;
        await write(call, eventToProto(e), signal);
      }
    }),

    Logs: streaming('Logs', async (call, signal) => {
      const key = call.request.jobId !== '' ? call.request.jobId : call.request.drvPath;
      if (key === '') throw new FarmError('INVALID_ARGUMENT', 'Logs needs a drv path or a job id');
      const jobId = await service.jobIdFor(key);
      await followLogs({ service, logs: deps.logs, graceMs: deps.logEofGraceMs ?? 10_000 }, jobId, call.request.follow, signal, (chunk) => write(call, chunk, signal));
    }),

    Cancel: unary('Cancel', (req) => service.cancel(req.submissionId)),
    Status: unary('Status', (req) => service.status(req.submissionId)),
    ListAgents: unary('ListAgents', () => service.listAgents()),
    ListBuilds: unary('ListBuilds', (req) => service.listBuilds(req.drvPath)),
    Explain: unary('Explain', (req) => service.explainWithRecords(req)),
    Retry: unary('Retry', (req) => service.retry(req)),

    GetDoorInfo: unary('GetDoorInfo', () => deps.doorInfo?.() ?? { cacheUrl: '', cachePublicKey: '', sshAddress: '', sshHostKey: '' }),

    NixSession: streaming('NixSession', (call: NixSessionCall, signal) => {
      if (deps.door === undefined) throw new FarmError('UNAVAILABLE', 'this coordinator runs no Nix door');
      return serveNixSession(call, deps.door, signal, call.getPeer());
    }),
  };
  server.addService(coordinatorServiceDefinition(), handlers);

  const port = await new Promise<number>((resolve, reject) => {
    server.bindAsync(listen, ServerCredentials.createInsecure(), (err, p) => (err !== null ? reject(err) : resolve(p)));
  }).catch((e: unknown) => {
    throw new FarmError('UNAVAILABLE', `cannot listen on ${listen}: ${(e as Error).message}`, {}, { cause: e });
  });
  const address = `${hostOf(listen)}:${port}`;
  logger.info({ address }, 'gRPC server listening');

  let closing: Promise<void> | undefined;
  return {
    address,
    close: () =>
      (closing ??= new Promise<void>((resolve) => {
        // Open streams (Watch, Logs -f) would hold a graceful shutdown forever: end them now.
        for (const finish of [...open]) finish(new FarmError('UNAVAILABLE', 'the coordinator is shutting down'));
        const force = setTimeout(() => server.forceShutdown(), 1000);
        server.tryShutdown(() => {
          clearTimeout(force);
          resolve();
        });
      })),
  };
}

/** What `streaming` needs of a server-streaming or bidirectional call. */
interface StreamingCall {
  readonly cancelled: boolean;
  end(): void;
  emit(event: 'error', error: unknown): boolean;
  on(event: 'cancelled', listener: () => void): unknown;
}

/** Writes one message, waiting for the transport to drain when it asks to. */
async function write<Res>(call: ServerWritableStream<unknown, Res>, message: Res, signal: AbortSignal): Promise<void> {
  if (call.write(message)) return;
  if (signal.aborted) return;
  await Promise.race([once(call, 'drain'), once(signal, 'abort')]);
}

/** Whether an upload's header names a lease (a build output from an agent) — as FarmService.addPath decides. */
function hasLease(header: { lease?: { jobId: string; epoch: string } | null }): boolean {
  const lease = header.lease;
  return lease !== null && lease !== undefined && (lease.jobId !== '' || lease.epoch !== '0');
}

/** The same bytes, reporting each chunk's size as it passes. */
async function* counted(chunks: AsyncIterable<Uint8Array>, report: (bytes: number) => void): AsyncGenerator<Uint8Array> {
  for await (const c of chunks) {
    report(c.length);
    yield c;
  }
}

function hostOf(listen: string): string {
  const i = listen.lastIndexOf(':');
  const host = i < 0 ? listen : listen.slice(0, i);
  return host === '' || host === '0.0.0.0' ? '127.0.0.1' : host === '[::]' ? '[::1]' : host;
}
