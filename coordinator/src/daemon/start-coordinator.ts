/**
 * The coordinator's composition root: opens the farm store (`<stateDir>/store`) and the durable
 * state, opens the service (replaying persisted submissions), connects to NATS (reconnecting
 * forever once connected), ensures the JetStream streams, then serves agents (NATS gateway +
 * results consumer) and clients (gRPC, with logs read from JetStream).
 *
 * The service's timers start only once agents can reach it, so a restarted coordinator does not
 * declare agents lost before they had a chance to re-register. close() stops everything in the
 * reverse order of start (clients first, the store last), carries on past a part that fails to
 * close, and is idempotent. A failed start closes what it had opened.
 */
import { mkdir } from 'node:fs/promises';
import { join, resolve } from 'node:path';
import { createLogger, FarmError, systemClock, type Clock, type Logger } from '@farm/common';
import { jetstream, jetstreamManager } from '@nats-io/jetstream';
import { connect, type NatsConnection } from '@nats-io/transport-node';
import { startGrpcServer } from '../adapters/grpc/server.js';
import { ensureFarmStreams } from '../adapters/nats/streams.js';
import { startAgentGateway } from '../adapters/nats/agent-gateway.js';
import { JobSpans } from '../adapters/tracing/job-spans.js';
import { startResultsConsumer } from '../adapters/nats/results-consumer.js';
import { JetStreamLogSource } from '../adapters/nats/jetstream-log-source.js';
import { openCoordinatorState } from '../adapters/state/open-state.js';
import { openFarmStore } from '../adapters/store/lmdb-farm-store.js';
import { FarmService, FARM_VERSION } from '../service/farm-service.js';
import { DoorBuilds } from '../service/door-builds.js';
import { createNixDoor } from '../adapters/nix-door/nix-door.js';
import { startSocketDoor } from '../adapters/nix-door/socket-door.js';
import { startSshGateway, type RunningSshGateway } from '../adapters/ssh/ssh-gateway.js';
import { loadOrCreateCacheKey } from '../adapters/http-cache/cache-key.js';
import { startHttpCache } from '../adapters/http-cache/http-cache.js';
import { farmSignatures } from '../adapters/http-cache/path-signatures.js';
import { startOpsServer, type OpsRoute } from '../adapters/http-ops/ops-server.js';
import { CoordinatorMetrics } from '../adapters/metrics/coordinator-metrics.js';
import { metricsRoutes } from '../adapters/metrics/routes.js';
import { dashboardRoutes } from '../adapters/dashboard/dashboard-routes.js';
import type { CoordinatorConfig } from './config.js';

export interface StartCoordinatorDeps {
  readonly clock?: Clock;
  readonly logger?: Logger;
}

export interface RunningCoordinator {
  /** `host:port` the gRPC server is bound to. */
  readonly grpcAddress: string;
  /** The Nix door's local socket (for farm-nix-stdio). */
  readonly doorSocket: string;
  /** `host:port` of the SSH endpoint, and its host key line; undefined when not configured. */
  readonly ssh: { readonly address: string; readonly hostKey: string } | undefined;
  /** The binary cache's URL and public key (for trusted-public-keys); undefined when not configured. */
  readonly cache: { readonly url: string; readonly publicKey: string } | undefined;
  /** The operator endpoint's URL (dashboard, /metrics); undefined when not configured. */
  readonly opsUrl: string | undefined;
  close(): Promise<void>;
}

interface Part {
  readonly name: string;
  close(): Promise<void>;
}

export async function startCoordinator(config: CoordinatorConfig, deps: StartCoordinatorDeps = {}): Promise<RunningCoordinator> {
  const logger = deps.logger ?? createLogger({ name: 'farm-coordinator', level: config.logLevel });
  const clock = deps.clock ?? systemClock;
  const stateDir = resolve(config.stateDir);
  const parts: Part[] = [];
  const closeAll = memo(() => closeParts(parts, logger));

  try {
    await mkdir(stateDir, { recursive: true });
    const store = await openFarmStore({ dir: join(stateDir, 'store'), logger: logger.child({ component: 'store' }), clock });
    parts.push({ name: 'store', close: () => store.close() });
    const state = openCoordinatorState(stateDir);
    parts.push({ name: 'state', close: () => state.close() });
    const service = await FarmService.open({
      store,
      state,
      clock,
      logger: logger.child({ component: 'service' }),
      options: {
        leaseMs: config.leaseMs,
        heartbeatMs: config.heartbeatMs,
        maxAttempts: config.maxAttempts,
        maxLogBytes: config.maxLogBytes,
        defaultTimeoutMs: config.defaultTimeoutMs,
        defaultMaxSilentMs: config.defaultMaxSilentMs,
        retry: { backoffBaseMs: config.retryBackoffMs, backoffCapMs: config.retryBackoffMaxMs, poisonAgents: config.poisonAgents, failureTtlMs: config.failureTtlMs },
      },
    });
    parts.push({ name: 'service', close: () => service.close() });
    // Tracing: each traced submission's jobs get `queue wait` and `lease` spans (no-op when off).
    const jobSpans = new JobSpans({ submissionTraceparent: (id) => service.submissionTraceparent(id), jobSubmissions: (id) => service.jobSubmissions(id), now: () => clock.now() });
    const stopJobSpans = service.onSchedulerEvents(jobSpans.onEvents);
    parts.push({ name: 'job spans', close: async () => (stopJobSpans(), jobSpans.close()) });
    // Metrics only where they can be scraped (the ops endpoint); otherwise the adapters observe nothing.
    const metrics =
      config.ops === undefined
        ? undefined
        : new CoordinatorMetrics({ service, routingOf: (d) => service.routingOf(d), storeUsage: () => store.usage(), submissionRow: (id) => state.getSubmission(id), clock, logger: logger.child({ component: 'metrics' }) }).attach();
    if (metrics !== undefined) parts.push({ name: 'metrics', close: async () => metrics.close() });

    const nc = await connectNats(config.nats.servers, logger.child({ component: 'nats' }));
    parts.push({ name: 'nats connection', close: () => closeConnection(nc) });
    metrics?.watchNats(nc);
    const jsm = await jetstreamManager(nc);
    const js = jetstream(nc);
    await ensureFarmStreams(jsm);

    const gateway = startAgentGateway({ nc, api: service, logger: logger.child({ component: 'nats-gateway' }), observer: metrics, leaseContext: (jobId, epoch, drv, agent) => jobSpans.leaseContext(jobId, epoch, drv, agent) });
    parts.push({ name: 'agent gateway', close: () => gateway.close() });
    const results = await startResultsConsumer({ js, jsm, api: service, logger: logger.child({ component: 'results' }), observer: metrics });
    parts.push({ name: 'results consumer', close: () => results.close() });
    await nc.flush(); // the gateway's subscriptions are live on the server before we say we are up
    service.start();

    const logs = new JetStreamLogSource(js, jsm, logger.child({ component: 'logs' }));
    const builds = new DoorBuilds({ service, store, logs, clock, logger: logger.child({ component: 'door' }), defaultMaxBuilds: config.door.maxBuildsPerClient });
    // The farm's signing key (the binary cache's): the door signs the path infos it shows with it too.
    const cacheKey = config.cache === undefined ? undefined : await loadOrCreateCacheKey(resolve(config.cache.secretKeyFile), config.cache.keyName);
    const door = createNixDoor({
      store,
      builds,
      logger: logger.child({ component: 'door' }),
      maxUploadBytes: config.door.maxUploadBytes,
      version: `farm ${FARM_VERSION}`,
      signaturesOf: cacheKey === undefined ? undefined : (info) => farmSignatures(info, cacheKey),
    });
    const doorInfo = { cacheUrl: '', cachePublicKey: '', sshAddress: '', sshHostKey: '' };
    const grpc = await startGrpcServer({ service, store, logs, logger: logger.child({ component: 'grpc' }), door, doorInfo: () => doorInfo, observer: metrics }, config.listen);
    parts.push({ name: 'gRPC server', close: () => grpc.close() });
    const socketDoor = await startSocketDoor(door, resolve(config.door.socket), logger.child({ component: 'door-socket' }));
    parts.push({ name: 'door socket', close: () => socketDoor.close() });
    let ssh: RunningSshGateway | undefined;
    if (config.ssh !== undefined) {
      const gateway = await startSshGateway(
        { door, logger: logger.child({ component: 'ssh' }) },
        { listen: config.ssh.listen, hostKeyFile: resolve(config.ssh.hostKeyFile), authorizedKeysFile: resolve(config.ssh.authorizedKeysFile), keys: config.ssh.keys },
      );
      ssh = gateway;
      parts.push({ name: 'SSH endpoint', close: () => gateway.close() });
      doorInfo.sshAddress = gateway.address;
      doorInfo.sshHostKey = gateway.hostKey;
    }

    logger.info({ grpc: grpc.address, nats: config.nats.servers, stateDir }, `coordinator listening on ${grpc.address}`);
    if (config.cache !== undefined && cacheKey !== undefined) {
      const key = cacheKey;
      const cache = await startHttpCache(
        { store, logs, logger: logger.child({ component: 'cache' }) },
        { listen: config.cache.listen, key, compression: config.cache.compression, priority: config.cache.priority, workDir: resolve(config.cache.workDir) },
      );
      parts.push({ name: 'binary cache', close: () => cache.close() });
      doorInfo.cacheUrl = cache.url;
      doorInfo.cachePublicKey = key.publicKey;
    }

    let opsUrl: string | undefined;
    if (config.ops !== undefined) {
      // Each part that shows something to operators contributes its routes here.
      const routes: OpsRoute[] = [];
      if (metrics !== undefined) routes.push(...metricsRoutes(metrics.registry));
      routes.push(...dashboardRoutes({ service, state, store, logs, clock, logger: logger.child({ component: 'dashboard' }), traceUrl: config.ops.traceUrl }));
      const ops = await startOpsServer({ routes, logger: logger.child({ component: 'ops' }) }, config.ops.listen);
      parts.push({ name: 'ops endpoint', close: () => ops.close() });
      opsUrl = ops.url;
    }

    return {
      grpcAddress: grpc.address,
      doorSocket: socketDoor.path,
      ssh: ssh === undefined ? undefined : { address: ssh.address, hostKey: ssh.hostKey },
      cache: doorInfo.cacheUrl === '' ? undefined : { url: doorInfo.cacheUrl, publicKey: doorInfo.cachePublicKey },
      opsUrl,
      close: closeAll,
    };
  } catch (e) {
    await closeAll().catch(() => undefined);
    throw e;
  }
}

async function connectNats(servers: string[], logger: Logger): Promise<NatsConnection> {
  let nc: NatsConnection;
  try {
    // Once connected, reconnect forever: agents and JetStream come back with the server.
    // noAsyncTraces: nats.js otherwise captures a stack trace (new Error) on every request, for error messages only.
    nc = await connect({ servers: [...servers], name: 'farm-coordinator', maxReconnectAttempts: -1, reconnectTimeWait: 1000, noAsyncTraces: true });
  } catch (e) {
    throw new FarmError('UNAVAILABLE', `cannot connect to NATS at ${servers.join(', ')}: ${(e as Error).message}`, {}, { cause: e });
  }
  void (async () => {
    for await (const s of nc.status()) {
      if (s.type === 'disconnect' || s.type === 'reconnect' || s.type === 'error') logger.warn({ status: s.type, server: 'server' in s ? s.server : undefined }, `NATS ${s.type}`);
    }
  })().catch(() => undefined);
  return nc;
}

/** Drain flushes our last acks and replies; a disconnected client cannot drain, so bound it. */
async function closeConnection(nc: NatsConnection): Promise<void> {
  if (nc.isClosed()) return;
  let timer: NodeJS.Timeout | undefined;
  try {
    await Promise.race([nc.drain(), new Promise((r) => (timer = setTimeout(r, 2000)))]);
  } catch {
    // fall through to close
  } finally {
    clearTimeout(timer);
  }
  await nc.close();
}

async function closeParts(parts: readonly Part[], logger: Logger): Promise<void> {
  let first: unknown;
  for (const part of [...parts].reverse()) {
    try {
      await part.close();
    } catch (e) {
      logger.error({ err: e }, `closing the ${part.name} failed`);
      first ??= e;
    }
  }
  if (first !== undefined) throw first;
}

function memo(fn: () => Promise<void>): () => Promise<void> {
  let p: Promise<void> | undefined;
  return () => (p ??= fn());
}
