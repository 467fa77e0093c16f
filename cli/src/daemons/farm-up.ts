/**
 * `farm up`: the embedded default — a nats-server with JetStream, the coordinator (in this
 * process) and local agents (child processes running `farm agent`), all under one state
 * directory, so a single command gives a working farm on one machine.
 *
 * Layout of the state directory:
 *   address.json              where the farm listens (read by `farm submit` & co.)
 *   nats/                     JetStream storage (results and logs streams)
 *   coordinator/              LMDB state and the farm store (NAR files)
 *   agents/<name>.json        each agent's config;  agents/<name>/  its local store and scratch
 *   logs/                     nats.log, coordinator.log, <agent>.log
 *
 * Starting again with the same state dir resumes: the coordinator reloads its submissions and
 * the JetStream streams still hold unconsumed results.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { appendFileSync, closeSync, createWriteStream, existsSync, mkdirSync, openSync, readdirSync, readFileSync, rmSync, writeFileSync, type WriteStream } from 'node:fs';
import { homedir, hostname } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { createLogger, FarmError, type Logger } from '@farm/common';
import { compileCoordinatorConfig, startCoordinator, type RunningCoordinator } from '@farm/coordinator';
import { compileAgentConfig, detectCapabilities, hostProbe, NIX_DEFAULT_FEATURES, type EmulationSetting } from '@farm/agent';
import { createCoordinatorClient } from '@farm/proto';
import { processAlive, readAddressFile, writeAddressFile } from '../client/address.js';
import { startEmbeddedNats, stopChild, type EmbeddedNats } from './nats-server.js';
import { daemonLogLevel } from './log-level.js';

export { defaultAgentCount, defaultMaxJobs, HOST_SANDBOX_PATHS } from './farm-up-defaults.js';

export interface FarmUpOptions {
  readonly stateDir: string;
  readonly agents: number;
  readonly maxJobs: number;
  readonly listen: string;
  readonly natsPort: number;
  /** Use this NATS instead of starting one. */
  readonly natsUrl?: string | undefined;
  readonly sandboxPaths: readonly string[];
  /**
   * Emulated agents: with 'auto' (the default), one agent per system qemu-user can emulate on
   * this host (aarch64-linux on x86_64), beside the native agents, which then offer only the
   * native system; 'binfmt' / 'qemu' insist on that way of emulating; 'off' starts none.
   */
  readonly emulation?: EmulationSetting | undefined;
  readonly leaseMs?: number | undefined;
  /** The Nix door's SSH endpoint, 'host:port' (port 0 = a free one), or 'off'. */
  readonly sshListen?: string | undefined;
  /** The binary cache, 'host:port' or 'off'. */
  readonly cacheListen?: string | undefined;
  /** The operator endpoint (dashboard, /metrics), 'host:port' or 'off'. */
  readonly opsListen?: string | undefined;
  /** The dashboard's trace links: a tracing UI's trace page with `{traceId}` (config ops.traceUrl). */
  readonly traceUrl?: string | undefined;
  readonly say: (line: string) => void;
}

export interface RunningFarm {
  readonly grpcAddress: string;
  /** The Nix door: local socket, SSH endpoint and its authorized_keys file, binary cache. */
  readonly door: { readonly socket: string; readonly ssh?: string | undefined; readonly authorizedKeys?: string | undefined; readonly cache?: string | undefined; readonly cacheKey?: string | undefined };
  readonly natsUrl: string;
  /** The dashboard's URL (its /metrics too); undefined when off. */
  readonly opsUrl: string | undefined;
  readonly agentNames: readonly string[];
  /** Each agent's Prometheus endpoint (`http://127.0.0.1:PORT/metrics`), by name. */
  readonly agentMetrics: Readonly<Record<string, string>>;
  stop(): Promise<void>;
}

const MAIN_JS = fileURLToPath(new URL('../main.js', import.meta.url));

export async function farmUp(options: FarmUpOptions): Promise<RunningFarm> {
  const stateDir = options.stateDir;
  mkdirSync(join(stateDir, 'logs'), { recursive: true });
  mkdirSync(join(stateDir, 'agents'), { recursive: true });
  refuseIfRunning(stateDir);

  const stops: (() => Promise<void>)[] = [];
  const stopAll = async (): Promise<void> => {
    for (const stop of stops.reverse()) {
      try {
        await stop();
      } catch {
        // keep stopping the rest; each part logs its own trouble
      }
    }
    stops.length = 0;
  };
  try {
    let natsUrl = options.natsUrl;
    if (natsUrl === undefined) {
      const nats: EmbeddedNats = await startEmbeddedNats({ stateDir, port: options.natsPort, logFile: join(stateDir, 'logs', 'nats.log') });
      stops.push(() => nats.stop());
      natsUrl = nats.url;
    }

    const sshListen = options.sshListen ?? '127.0.0.1:0';
    const cacheListen = options.cacheListen ?? '127.0.0.1:0';
    const opsListen = options.opsListen ?? '127.0.0.1:0';
    const coordinatorLog = createWriteStream(join(stateDir, 'logs', 'coordinator.log'), { flags: 'a' });
    stops.push(() => closeStream(coordinatorLog));
    // FARM_LOG_LEVEL: the coordinator's and the agents' level (their configs' logLevel).
    const logLevel = daemonLogLevel(process.env);
    const logger: Logger = createLogger({ name: 'coordinator', level: logLevel ?? 'info' }, coordinatorLog);
    const config = compileCoordinatorConfig(
      {
        stateDir: join(stateDir, 'coordinator'),
        listen: options.listen,
        nats: { servers: [natsUrl] },
        ...(options.leaseMs !== undefined ? { leaseMs: options.leaseMs } : {}),
        ...(logLevel !== undefined ? { logLevel } : {}),
        ...(sshListen !== 'off' ? { ssh: { listen: sshListen } } : {}),
        ...(cacheListen !== 'off' ? { cache: { listen: cacheListen } } : {}),
        ...(opsListen !== 'off' ? { ops: { listen: opsListen, ...(options.traceUrl !== undefined ? { traceUrl: options.traceUrl } : {}) } } : {}),
      },
      'farm up',
    );
    if (config.ssh !== undefined) seedAuthorizedKeys(config.ssh.authorizedKeysFile);
    const coordinator: RunningCoordinator = await startCoordinator(config, { logger });
    stops.push(() => coordinator.close());

    const native = agentNames(options.agents).map((name) => ({ name, only: { emulation: 'off' } }));
    const emulated = emulatedSystems(options.emulation ?? 'auto').map(({ system, cpu }) => ({
      name: `${hostPart()}-${cpu}`,
      // The host's toolchain features (musl, cross-aarch64) make binaries for the host, not for
      // the emulated system: only Nix's default features here.
      only: { systems: [system], supportedFeatures: [...NIX_DEFAULT_FEATURES], emulation: options.emulation ?? 'auto' },
    }));
    const names = [...native, ...emulated].map((a) => a.name);
    // Set once address.json exists: a restarted agent serves its metrics on a new port.
    let agentRestarted: ((name: string) => void) | undefined;
    const agents = [...native, ...emulated].map(({ name, only }) => {
      const configFile = join(stateDir, 'agents', `${name}.json`);
      const agentConfig = {
        name,
        stateDir: join(stateDir, 'agents', name),
        coordinator: coordinator.grpcAddress,
        nats: { servers: [natsUrl] },
        maxJobs: options.maxJobs,
        sandboxPaths: [...options.sandboxPaths],
        metrics: { listen: '127.0.0.1:0' },
        ...(logLevel !== undefined ? { logLevel } : {}),
        ...only,
      };
      compileAgentConfig(agentConfig, configFile); // fail here, clearly, rather than in a child
      writeFileSync(configFile, `${JSON.stringify(agentConfig, null, 2)}\n`);
      rmSync(join(agentConfig.stateDir, 'metrics-url'), { force: true }); // a killed run's; the agent writes its own
      return superviseAgent(name, configFile, join(stateDir, 'logs', `${name}.log`), join(agentConfig.stateDir, 'metrics-url'), () => agentRestarted?.(name));
    });
    stops.push(async () => {
      await Promise.all(agents.map((a) => a.stop()));
    });
    await waitForAgents(coordinator.grpcAddress, names, 60_000);
    const agentMetrics = await agentMetricsUrls(stateDir, names, 10_000);

    const door = {
      socket: coordinator.doorSocket,
      ssh: coordinator.ssh?.address,
      authorizedKeys: config.ssh?.authorizedKeysFile,
      cache: coordinator.cache?.url,
      cacheKey: coordinator.cache?.publicKey,
    };
    const address = {
      grpc: coordinator.grpcAddress,
      nats: natsUrl,
      pid: process.pid,
      startedAt: new Date().toISOString(),
      door: door.socket,
      ...(door.ssh !== undefined ? { ssh: door.ssh } : {}),
      ...(door.cache !== undefined ? { cache: door.cache } : {}),
      ...(coordinator.opsUrl !== undefined ? { ops: coordinator.opsUrl } : {}),
      agentMetrics,
    };
    writeAddressFile(stateDir, address);
    let stopped = false;
    stops.push(async () => {
      stopped = true;
      rmSync(join(stateDir, 'address.json'), { force: true });
    });
    agentRestarted = (name) =>
      void agentMetricsUrls(stateDir, [name], 60_000).then((urls) => {
        const url = urls[name];
        if (stopped || url === undefined || url === agentMetrics[name]) return;
        agentMetrics[name] = url;
        writeAddressFile(stateDir, address);
      });
    return { grpcAddress: coordinator.grpcAddress, natsUrl, opsUrl: coordinator.opsUrl, agentNames: names, agentMetrics, door, stop: stopAll };
  } catch (e) {
    await stopAll();
    throw e;
  }
}

/**
 * A new one-machine farm lets its own user in through the SSH door: the public keys in
 * ~/.ssh/*.pub seed the authorized_keys file, if it does not exist yet.
 */
function seedAuthorizedKeys(file: string): void {
  if (existsSync(file)) return;
  mkdirSync(dirname(file), { recursive: true });
  const sshDir = join(homedir(), '.ssh');
  let keys: string[] = [];
  try {
    keys = readdirSync(sshDir)
      .filter((f) => f.endsWith('.pub'))
      .map((f) => readFileSync(join(sshDir, f), 'utf8').trim())
      .filter((l) => l !== '');
  } catch {
    keys = [];
  }
  writeFileSync(file, `# Keys the farm's SSH door accepts (OpenSSH authorized_keys format; see docs/nix-door.md).\n${keys.map((k) => `${k}\n`).join('')}`, { mode: 0o600 });
}

function refuseIfRunning(stateDir: string): void {
  let existing: ReturnType<typeof readAddressFile> | undefined;
  try {
    existing = readAddressFile(stateDir);
  } catch {
    existing = undefined;
  }
  if (existing === undefined || existing.pid === process.pid) return;
  if (processAlive(existing.pid)) {
    throw new FarmError('FAILED_PRECONDITION', `a farm is already running from ${stateDir} (pid ${existing.pid}, coordinator ${existing.grpc}); stop it first or use another --state-dir`);
  }
}

/**
 * Each agent writes its metrics URL to `<its stateDir>/metrics-url` once its endpoint listens
 * (just after it registered): read them, waiting a little for the last ones. An agent that
 * `farm up` restarts later gets a new port; its file then says where.
 */
async function agentMetricsUrls(stateDir: string, names: readonly string[], timeoutMs: number): Promise<Record<string, string>> {
  const until = Date.now() + timeoutMs;
  const out: Record<string, string> = {};
  for (const name of names) {
    const file = join(stateDir, 'agents', name, 'metrics-url');
    for (;;) {
      const url = existsSync(file) ? readFileSync(file, 'utf8').trim() : '';
      if (url !== '') {
        out[name] = url;
        break;
      }
      if (Date.now() > until) break; // not fatal: the farm runs without that agent's metrics
      await new Promise((r) => setTimeout(r, 50));
    }
  }
  return out;
}

function hostPart(): string {
  return hostname().replace(/[^A-Za-z0-9_-]/g, '-').slice(0, 40) || 'local';
}

function agentNames(count: number): string[] {
  return Array.from({ length: count }, (_, i) => `${hostPart()}-${i + 1}`);
}

/** The systems this host emulates under the setting (an error saying what is missing if it insists). */
function emulatedSystems(setting: EmulationSetting): { system: string; cpu: string }[] {
  if (setting === 'off') return [];
  let detected;
  try {
    detected = detectCapabilities(hostProbe(), setting);
  } catch (e) {
    throw new FarmError('FAILED_PRECONDITION', `--emulation ${setting}: ${(e as Error).message}`);
  }
  return detected.emulators.map((e) => ({ system: e.system, cpu: e.system.split('-')[0]! }));
}

interface SupervisedAgent {
  stop(): Promise<void>;
}

/**
 * Runs `farm agent --config <file>` and restarts it (after 1 s) if it dies while the farm is up.
 * The agent writes its log straight into the file (an O_APPEND fd as its stdout and stderr):
 * relaying it through this process cost the coordinator's event loop a read and a write per line.
 */
/**
 * Runs the agent and starts it again 1 s after it exits unexpectedly. Before a restart its
 * metrics-url file is removed (the new process writes its own port) and `restarted` is called.
 */
function superviseAgent(name: string, configFile: string, logFile: string, metricsUrlFile: string, restarted: () => void): SupervisedAgent {
  const logFd = openSync(logFile, 'a');
  let stopping = false;
  let child: ChildProcess | undefined;
  let exited: Promise<void> = Promise.resolve();
  const start = (again: boolean): void => {
    if (again) rmSync(metricsUrlFile, { force: true });
    const c = spawn(process.execPath, [MAIN_JS, 'agent', '--config', configFile], { stdio: ['ignore', logFd, logFd] });
    if (again) restarted();
    child = c;
    exited = new Promise((resolve) =>
      c.once('exit', (code, signal) => {
        if (!stopping) {
          appendFileSync(logFd, `farm up: agent ${name} exited (${signal ?? `code ${String(code)}`}); restarting in 1 s\n`);
          setTimeout(() => {
            if (!stopping) start(true);
          }, 1000).unref();
        }
        resolve();
      }),
    );
  };
  start(false);
  return {
    stop: async () => {
      stopping = true;
      if (child !== undefined) await stopChild(child, exited, 10_000);
      closeSync(logFd);
    },
  };
}

async function waitForAgents(grpcAddress: string, names: readonly string[], timeoutMs: number): Promise<void> {
  const client = createCoordinatorClient(grpcAddress);
  const deadline = Date.now() + timeoutMs;
  try {
    for (;;) {
      const seen = await new Promise<Set<string>>((resolve) =>
        client.ListAgents({}, { deadline: Date.now() + 5000 }, (err, reply) => resolve(new Set(err || reply === undefined ? [] : reply.agents.map((a) => a.agentId)))),
      );
      if (names.every((n) => seen.has(n))) return;
      if (Date.now() > deadline) {
        const missing = names.filter((n) => !seen.has(n));
        throw new FarmError('UNAVAILABLE', `agent${missing.length > 1 ? 's' : ''} ${missing.join(', ')} did not register within ${timeoutMs / 1000} s (see the logs in the state directory)`);
      }
      await new Promise((r) => setTimeout(r, 100));
    }
  } finally {
    client.close();
  }
}

function closeStream(stream: WriteStream): Promise<void> {
  return new Promise((resolve) => stream.end(() => resolve()));
}
