/**
 * startAgent: the agent daemon's composition root. Prepares the state dir (<stateDir>/store,
 * <stateDir>/work, leftovers of a killed run removed), connects to NATS (reconnecting forever)
 * and to the coordinator's gRPC address, then registers and runs the session. Resolves once the
 * agent is registered; while the coordinator is unreachable it keeps retrying (and logging).
 * close() stops pulling work and heartbeating, kills running builds (reporting nothing: the
 * coordinator requeues them when their leases expire — "unregister by going silent"), drains
 * the NATS connection and closes the gRPC channel. It is idempotent.
 */
import { mkdirSync, rmSync } from 'node:fs';
import { hostname } from 'node:os';
import { join } from 'node:path';
import { createLogger, systemClock, type Clock, type Logger } from '@farm/common';
import { jetstream } from '@nats-io/jetstream';
import { connect, type NatsConnection } from '@nats-io/transport-node';
import { detectCapabilities, nativeSystem } from '../capabilities.js';
import { describeEmulator } from '../emulation.js';
import { AgentSession } from '../session/agent-session.js';
import { LocalStore } from '../store/local-store.js';
import { NarTransfer, type UploadRequest } from '../transfer/nar-transfer.js';
import type { JsPublish } from '../logs/log-publisher.js';
import { AgentMetrics } from '../metrics/agent-metrics.js';
import { countingAddPath, countingPublish, countingRequests, countingStore, watchNatsStatus } from '../metrics/instrument.js';
import { startMetricsServer, type RunningMetricsServer } from '../metrics/metrics-server.js';
import type { AgentConfig } from './config.js';
import { hostProbe } from './host-probe.js';

/** Reported in AgentHello; kept in step with agent/package.json. */
export const AGENT_VERSION = '0.1.0';

export interface RunningAgent {
  readonly agentId: string;
  close(): Promise<void>;
}

export interface AgentDeps {
  readonly clock?: Clock;
  readonly logger?: Logger;
  /** Gives up starting (startAgent rejects) while the coordinator has not answered yet. */
  readonly signal?: AbortSignal;
}

/** How long close() lets NATS flush (the eof of killed builds' logs) before cutting it. */
const DRAIN_TIMEOUT_MS = 5000;

export async function startAgent(config: AgentConfig, deps: AgentDeps = {}): Promise<RunningAgent> {
  const clock = deps.clock ?? systemClock;
  const logger = (deps.logger ?? createLogger({ name: 'farm-agent', level: config.logLevel })).child({ agent: config.name });
  const store = new LocalStore(join(config.stateDir, 'store'));
  const leftovers = store.removeLeftovers();
  const workDir = join(config.stateDir, 'work');
  // Scratch of builds a killed agent left behind: nothing in it is worth keeping.
  rmSync(workDir, { recursive: true, force: true });
  mkdirSync(workDir, { recursive: true });
  if (leftovers > 0) logger.info({ leftovers }, 'removed incomplete fetches of an earlier run');

  const detected = config.systems === undefined || config.supportedFeatures === undefined ? detectCapabilities(hostProbe(), config.emulation) : undefined;
  const systems = config.systems ?? detected!.systems;
  // Only the emulators of systems the agent offers; each is advertised with how it runs.
  const emulators = config.emulators.filter((e) => systems.includes(e.system));
  const native = nativeSystem(process.arch, process.platform);
  const unserved = systems.filter((s) => s !== native && !emulators.some((e) => e.system === s));
  // Routing trusts what the agent offers: say so when a foreign system has no emulator (its
  // builders then run only if the host executes them natively, such as /bin/sh scripts).
  if (unserved.length > 0) logger.warn({ systems: unserved, emulation: config.emulation }, 'offering systems this host neither runs natively nor emulates');
  const capabilities = {
    systems,
    supportedFeatures: config.supportedFeatures ?? detected!.supportedFeatures,
    mandatoryFeatures: config.mandatoryFeatures ?? [],
    maxJobs: config.maxJobs,
    speedFactor: config.speedFactor,
    emulated: Object.fromEntries(emulators.map((e) => [e.system, describeEmulator(e)])),
  };

  // noAsyncTraces: nats.js otherwise captures a stack trace (new Error) on every request, for error messages only.
  const nc = await connect({ servers: [...config.nats.servers], name: `farm-agent-${config.name}`, maxReconnectAttempts: -1, reconnectTimeWait: 1000, noAsyncTraces: true });
  void watchStatus(nc, logger);
  const js = jetstream(nc);
  const transfer = NarTransfer.connect(config.coordinator);
  // Metrics only where they can be scraped: otherwise nothing is wrapped.
  const metrics = config.metrics === undefined ? undefined : new AgentMetrics({ agent: config.name });
  if (metrics !== undefined) watchNatsStatus(nc, metrics);
  const publish: JsPublish = (subject, data, options) => js.publish(subject, data, options);
  const addPath = (req: UploadRequest) => transfer.addPath(req);
  let session: AgentSession;
  try {
    session = await AgentSession.start({
      nc: metrics === undefined ? nc : countingRequests(nc, metrics),
      name: config.name,
      host: hostname(),
      version: AGENT_VERSION,
      capabilities,
      clock,
      logger,
      startSignal: deps.signal,
      attempts: {
        store: metrics === undefined ? store : countingStore(store, metrics),
        getNar: transfer.getNar,
        addPath: metrics === undefined ? addPath : countingAddPath(addPath, metrics),
        publish: metrics === undefined ? publish : countingPublish(publish, metrics),
        workDir,
        sandboxPaths: config.sandboxPaths,
        emulators,
        cores: config.cores,
        inlineOutputs: config.inlineOutputs,
      },
    });
  } catch (e) {
    transfer.close();
    await nc.close();
    throw e;
  }
  let metricsServer: RunningMetricsServer | undefined;
  if (metrics !== undefined && config.metrics !== undefined) {
    metrics.readSlotsFrom(() => session.slots());
    try {
      metricsServer = await startMetricsServer(metrics.registry, config.metrics.listen, { stateDir: config.stateDir, logger });
    } catch (e) {
      await session.close();
      transfer.close();
      await nc.close();
      throw e;
    }
  }
  logger.info({ agentId: session.agentId, coordinator: config.coordinator, maxJobs: config.maxJobs, systems: capabilities.systems, emulated: capabilities.emulated, metrics: metricsServer?.url }, 'agent started');

  let closing: Promise<void> | undefined;
  return {
    get agentId() {
      return session.agentId;
    },
    close() {
      closing ??= (async () => {
        await session.close();
        // drain() waits for the server; when it is gone, give up after a while and just close.
        const drained = nc.drain().catch(() => undefined);
        const timer = setTimeout(() => void nc.close(), DRAIN_TIMEOUT_MS);
        await drained;
        clearTimeout(timer);
        await nc.close().catch(() => undefined);
        transfer.close();
        await metricsServer?.close();
        logger.info('agent stopped');
      })();
      return closing;
    },
  };
}

async function watchStatus(nc: NatsConnection, logger: Logger): Promise<void> {
  for await (const s of nc.status()) {
    if (s.type === 'disconnect' || s.type === 'reconnect' || s.type === 'error') logger.warn({ nats: s }, `NATS ${s.type}`);
    else logger.debug({ nats: s }, `NATS ${s.type}`);
  }
}
