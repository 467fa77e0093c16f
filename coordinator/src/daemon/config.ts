/**
 * The coordinator's configuration: user input (a parsed config file, CLI flags) compiled into a
 * CoordinatorConfig with defaults filled in, durations converted (`'15s'` → 15000) and unknown
 * keys rejected by name (compileConfig from @farm/common).
 */
import { join } from 'node:path';
import { z } from 'zod';
import { compileConfig, durationMs } from '@farm/common';
import { CACHE_COMPRESSIONS, DEFAULT_CACHE_COMPRESSION, type CacheCompression } from '../adapters/http-cache/compression.js';

export interface CoordinatorConfig {
  /** LMDB files and the NAR store live here. */
  readonly stateDir: string;
  /** gRPC `host:port` (port 0 = pick one). */
  readonly listen: string;
  readonly nats: { readonly servers: string[] };
  readonly leaseMs: number;
  readonly heartbeatMs: number;
  readonly maxAttempts: number;
  /** First retry backoff after an infrastructure failure; doubles per retry up to retryBackoffMaxMs. */
  readonly retryBackoffMs: number;
  readonly retryBackoffMaxMs: number;
  /** A job that fails on this many distinct agents (infrastructure failures, agents lost) is poison. */
  readonly poisonAgents: number;
  /** How long a build failure is reused for new submissions before the derivation is tried again. */
  readonly failureTtlMs: number;
  /** Per job, in bytes. */
  readonly maxLogBytes: number;
  /** 0 = none. */
  readonly defaultTimeoutMs: number;
  /** 0 = none. */
  readonly defaultMaxSilentMs: number;
  readonly logLevel: 'debug' | 'info' | 'warn' | 'error';
  /** The Nix door's sessions (SSH and `farm nix-stdio`). */
  readonly door: DoorConfig;
  /** The SSH endpoint; undefined = not started. */
  readonly ssh: SshConfig | undefined;
  /** The HTTP binary cache; undefined = not started. */
  readonly cache: CacheConfig | undefined;
  /** The operator HTTP endpoint (dashboard, /metrics); undefined = not started. */
  readonly ops: OpsConfig | undefined;
}

export interface OpsConfig {
  /** 'host:port'; port 0 picks one. */
  readonly listen: string;
  /** The tracing UI's page of one trace, `{traceId}` standing for its id: the dashboard links each submission's trace. */
  readonly traceUrl?: string;
}

export interface DoorConfig {
  /** Door builds one client (SSH key, gRPC client) may run at once when its settings name none. */
  readonly maxBuildsPerClient: number;
  /** Largest single upload through the door (held in memory while it is checked), in bytes. */
  readonly maxUploadBytes: number;
  /** The local socket `farm-nix-stdio` connects to; default `<stateDir>/nix-door.sock`. */
  readonly socket: string;
}

export interface SshConfig {
  readonly listen: string;
  /** Default `<stateDir>/door/ssh_host_ed25519_key`, created when missing. */
  readonly hostKeyFile: string;
  /** Default `<stateDir>/door/authorized_keys`. */
  readonly authorizedKeysFile: string;
  /** Per-key settings by key name or `SHA256:` fingerprint (authorized_keys farm-* options win). */
  readonly keys: Readonly<Record<string, { readonly systems?: readonly string[]; readonly maxBuilds?: number }>>;
}

export interface CacheConfig {
  readonly listen: string;
  /** The signing key's name in `Sig:` lines and trusted-public-keys. */
  readonly keyName: string;
  /** Nix-format secret key file; default `<stateDir>/door/cache-secret-key`, created when missing. */
  readonly secretKeyFile: string;
  readonly compression: CacheCompression;
  readonly priority: number;
  /** Compressed NARs and listings (derived, rebuilt on demand): `<stateDir>/cache`. */
  readonly workDir: string;
}

export const COORDINATOR_CONFIG_DEFAULTS = {
  listen: '127.0.0.1:0',
  natsServers: ['nats://127.0.0.1:4222'],
  // A silent agent is declared lost after leaseMs and its jobs requeued on the next timer round
  // (at most 1 s later): 13 s in all, inside the 15 s operators are promised.
  leaseMs: 12_000,
  heartbeatMs: 3_000,
  maxAttempts: 3,
  retryBackoffMs: 1_000,
  retryBackoffMaxMs: 60_000,
  poisonAgents: 3,
  failureTtlMs: 3_600_000,
  maxLogBytes: 64 * 1024 * 1024,
  defaultTimeoutMs: 0,
  defaultMaxSilentMs: 0,
  logLevel: 'info',
  door: { maxBuildsPerClient: 16, maxUploadBytes: 2 * 1024 * 1024 * 1024 },
  cacheKeyName: 'farm-1',
  cacheCompression: DEFAULT_CACHE_COMPRESSION,
  cachePriority: 40,
} as const;

const D = COORDINATOR_CONFIG_DEFAULTS;
const nonEmpty = z.string().min(1, 'must not be empty');
/** durationMs, with one readable message instead of zod 4's bare "Invalid input" for a union. */
const duration = z.union(durationMs.options, { error: "expected a duration like 500ms, 15s, 2m or 1h, or milliseconds" });
const positiveDuration = duration.refine((ms) => ms > 0, 'must be more than 0');

function coordinatorConfigSchema() {
  return z
    .object({
      stateDir: nonEmpty,
      listen: nonEmpty.regex(/^\S+:\d{1,5}$/, "expected 'host:port'").default(D.listen),
      nats: z
        .object({ servers: z.array(nonEmpty).min(1, 'list at least one server').default([...D.natsServers]) })
        .strict()
        .default({ servers: [...D.natsServers] }),
      leaseMs: positiveDuration.default(D.leaseMs),
      heartbeatMs: positiveDuration.default(D.heartbeatMs),
      maxAttempts: z.number().int().positive().default(D.maxAttempts),
      retryBackoffMs: duration.default(D.retryBackoffMs),
      retryBackoffMaxMs: duration.default(D.retryBackoffMaxMs),
      poisonAgents: z.number().int().positive().default(D.poisonAgents),
      failureTtlMs: duration.default(D.failureTtlMs),
      maxLogBytes: z.number().int().positive().default(D.maxLogBytes),
      defaultTimeoutMs: duration.default(D.defaultTimeoutMs),
      defaultMaxSilentMs: duration.default(D.defaultMaxSilentMs),
      logLevel: z.enum(['debug', 'info', 'warn', 'error']).default(D.logLevel),
      door: z
        .object({
          maxBuildsPerClient: z.number().int().positive().default(D.door.maxBuildsPerClient),
          maxUploadBytes: z.number().int().positive().default(D.door.maxUploadBytes),
          socket: nonEmpty.optional(),
        })
        .strict()
        .default({ ...D.door }),
      ssh: z
        .object({
          listen: nonEmpty.regex(/^\S+:\d{1,5}$/, "expected 'host:port'"),
          hostKeyFile: nonEmpty.optional(),
          authorizedKeysFile: nonEmpty.optional(),
          keys: z
            .record(
              nonEmpty,
              z.object({ systems: z.array(nonEmpty).optional(), maxBuilds: z.number().int().positive().optional() }).strict(),
            )
            .default({}),
        })
        .strict()
        .optional(),
      cache: z
        .object({
          listen: nonEmpty.regex(/^\S+:\d{1,5}$/, "expected 'host:port'"),
          keyName: nonEmpty.regex(/^[^:\s]+$/, 'a key name has no colon or spaces').default(D.cacheKeyName),
          secretKeyFile: nonEmpty.optional(),
          compression: z.enum(CACHE_COMPRESSIONS).default(D.cacheCompression),
          priority: z.number().int().nonnegative().default(D.cachePriority),
        })
        .strict()
        .optional(),
      ops: z
        .object({
          listen: nonEmpty.regex(/^\S+:\d{1,5}$/, "expected 'host:port'"),
          traceUrl: nonEmpty.regex(/^https?:\/\/\S*\{traceId\}\S*$/, "expected an http(s) URL with {traceId} in it, like http://jaeger:16686/trace/{traceId}").optional(),
        })
        .strict()
        .optional(),
    })
    .strict()
    // An agent must get several heartbeats in per lease, or one lost ack fences it.
    .refine((c) => c.heartbeatMs < c.leaseMs, { message: 'heartbeatMs must be less than leaseMs', path: ['heartbeatMs'] })
    .refine((c) => c.retryBackoffMs <= c.retryBackoffMaxMs, { message: 'retryBackoffMs must not be more than retryBackoffMaxMs', path: ['retryBackoffMs'] });
}

/** Compiles `input` (e.g. a parsed JSON file named `source`); FarmError INVALID_CONFIG on any problem. */
export function compileCoordinatorConfig(input: unknown, source = 'coordinator config'): CoordinatorConfig {
  const c = compileConfig(coordinatorConfigSchema(), input ?? {}, source);
  return {
    stateDir: c.stateDir,
    listen: c.listen,
    nats: { servers: c.nats.servers },
    leaseMs: c.leaseMs,
    heartbeatMs: c.heartbeatMs,
    maxAttempts: c.maxAttempts,
    retryBackoffMs: c.retryBackoffMs,
    retryBackoffMaxMs: c.retryBackoffMaxMs,
    poisonAgents: c.poisonAgents,
    failureTtlMs: c.failureTtlMs,
    maxLogBytes: c.maxLogBytes,
    defaultTimeoutMs: c.defaultTimeoutMs,
    defaultMaxSilentMs: c.defaultMaxSilentMs,
    logLevel: c.logLevel,
    door: { maxBuildsPerClient: c.door.maxBuildsPerClient, maxUploadBytes: c.door.maxUploadBytes, socket: c.door.socket ?? join(c.stateDir, 'nix-door.sock') },
    ssh:
      c.ssh === undefined
        ? undefined
        : {
            listen: c.ssh.listen,
            hostKeyFile: c.ssh.hostKeyFile ?? join(c.stateDir, 'door', 'ssh_host_ed25519_key'),
            authorizedKeysFile: c.ssh.authorizedKeysFile ?? join(c.stateDir, 'door', 'authorized_keys'),
            keys: Object.fromEntries(Object.entries(c.ssh.keys).map(([k, v]) => [k, { ...(v.systems ? { systems: v.systems } : {}), ...(v.maxBuilds ? { maxBuilds: v.maxBuilds } : {}) }])),
          },
    cache:
      c.cache === undefined
        ? undefined
        : {
            listen: c.cache.listen,
            keyName: c.cache.keyName,
            secretKeyFile: c.cache.secretKeyFile ?? join(c.stateDir, 'door', 'cache-secret-key'),
            compression: c.cache.compression,
            priority: c.cache.priority,
            workDir: join(c.stateDir, 'cache'),
          },
    ops: c.ops === undefined ? undefined : { listen: c.ops.listen, ...(c.ops.traceUrl === undefined ? {} : { traceUrl: c.ops.traceUrl }) },
  };
}
