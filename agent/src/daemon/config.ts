/**
 * The agent's configuration: user input (a parsed config file, CLI flags) compiled into an
 * AgentConfig with defaults filled in and unknown keys rejected by name (compileConfig).
 * Defaults that depend on the host — name, CPU count, capabilities — are computed here, once,
 * so that what the agent advertises is visible in the compiled config.
 */
import { hostname, availableParallelism } from 'node:os';
import { z } from 'zod';
import { compileConfig } from '@farm/common';
import { detectCapabilities } from '../capabilities.js';
import { hostProbe } from './host-probe.js';

/** Agent names become NATS subject tokens and agent ids (contract: /^[A-Za-z0-9_-]{1,64}$/). */
export const AGENT_NAME_RE = /^[A-Za-z0-9_-]{1,64}$/;

export interface AgentConfig {
  /** Unique, /^[A-Za-z0-9_-]{1,64}$/; default: derived from the hostname. */
  readonly name: string;
  /** Local store (<stateDir>/store) and scratch (<stateDir>/work). */
  readonly stateDir: string;
  /** The coordinator's gRPC address, `host:port`. */
  readonly coordinator: string;
  readonly nats: { readonly servers: readonly string[] };
  /** Builds run at once; default: the number of CPUs. */
  readonly maxJobs: number;
  /** NIX_BUILD_CORES per build; 0 = all. */
  readonly cores: number;
  readonly speedFactor: number;
  /** Default: detected (native system, qemu-emulated aarch64). */
  readonly systems?: readonly string[];
  /** Default: detected toolchain features. */
  readonly supportedFeatures?: readonly string[];
  readonly mandatoryFeatures?: readonly string[];
  /** Extra host paths in every sandbox (`PATH`, `TARGET=SOURCE`, `PATH?` optional). */
  readonly sandboxPaths: readonly string[];
  readonly logLevel: 'debug' | 'info' | 'warn' | 'error';
  /**
   * Send small outputs' NARs with the build result instead of AddPath uploads (default true;
   * see INLINE_NAR_MAX in @farm/proto). Off: every output is uploaded with AddPath.
   */
  readonly inlineOutputs: boolean;
}

const nonEmpty = z.string().min(1, 'must not be empty');

function agentConfigSchema() {
  return z
    .object({
      name: z
        .string()
        .regex(AGENT_NAME_RE, 'must be 1 to 64 characters of A-Z, a-z, 0-9, _ and -')
        .optional(),
      stateDir: nonEmpty,
      coordinator: nonEmpty.regex(/^[^\s]+:\d+$/, "expected 'host:port'"),
      nats: z.object({ servers: z.array(nonEmpty).min(1, 'list at least one server').default(['nats://127.0.0.1:4222']) }).strict().default({ servers: ['nats://127.0.0.1:4222'] }),
      maxJobs: z.number().int().positive().optional(),
      cores: z.number().int().nonnegative().default(0),
      speedFactor: z.number().positive().default(1),
      systems: z.array(nonEmpty).min(1, 'list at least one system').optional(),
      supportedFeatures: z.array(nonEmpty).optional(),
      mandatoryFeatures: z.array(nonEmpty).default([]),
      sandboxPaths: z.array(nonEmpty).default([]),
      logLevel: z.enum(['debug', 'info', 'warn', 'error']).default('info'),
      inlineOutputs: z.boolean().default(true),
    })
    .strict();
}

/** Compiles `input` (e.g. a parsed JSON file named `source`); FarmError INVALID_CONFIG on any problem. */
export function compileAgentConfig(input: unknown, source = 'agent config'): AgentConfig {
  const c = compileConfig(agentConfigSchema(), input ?? {}, source);
  // Probe the host only for what the input left open (the probe looks at PATH).
  const detected = c.systems === undefined || c.supportedFeatures === undefined ? detectCapabilities(hostProbe()) : undefined;
  return {
    name: c.name ?? defaultAgentName(hostname()),
    stateDir: c.stateDir,
    coordinator: c.coordinator,
    nats: { servers: c.nats.servers },
    maxJobs: c.maxJobs ?? availableParallelism(),
    cores: c.cores,
    speedFactor: c.speedFactor,
    systems: c.systems ?? detected!.systems,
    supportedFeatures: c.supportedFeatures ?? detected!.supportedFeatures,
    mandatoryFeatures: c.mandatoryFeatures,
    sandboxPaths: c.sandboxPaths,
    logLevel: c.logLevel,
    inlineOutputs: c.inlineOutputs,
  };
}

/** The hostname squeezed into the agent-name charset: `build-01.example.org` → `build-01-example-org`. */
export function defaultAgentName(host: string): string {
  const name = host
    .replace(/[^A-Za-z0-9_-]+/g, '-')
    .replace(/^-+|-+$/g, '')
    .slice(0, 64);
  return name === '' ? 'agent' : name;
}
