/**
 * The agent's configuration: user input (a parsed config file, CLI flags) compiled into an
 * AgentConfig with defaults filled in and unknown keys rejected by name (compileConfig).
 * Defaults that depend on the host — name, CPU count, capabilities — are computed here, once,
 * so that what the agent advertises is visible in the compiled config.
 */
import { hostname, availableParallelism } from 'node:os';
import { z } from 'zod';
import { compileConfig, FarmError } from '@farm/common';
import { detectCapabilities, type DetectedCapabilities } from '../capabilities.js';
import type { EmulationSetting, Emulator } from '../emulation.js';
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
  /** Default: detected (the native system, and the emulated ones `emulation` gives). */
  readonly systems?: readonly string[];
  /**
   * How builders of emulated systems run (emulation.ts): 'auto' (default) uses a binfmt_misc
   * entry if the kernel has one, else qemu-<cpu>-static explicitly; 'binfmt' / 'qemu' insist on
   * one way; 'off' emulates nothing (a native-only agent beside an emulated one).
   */
  readonly emulation: EmulationSetting;
  /** What `emulation` found on this host, for the systems it can emulate. */
  readonly emulators: readonly Emulator[];
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
  /** The Prometheus endpoint (`/metrics` on 'host:port', port 0 picks one); absent = none. */
  readonly metrics?: { readonly listen: string } | undefined;
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
      emulation: z.enum(['auto', 'binfmt', 'qemu', 'off']).default('auto'),
      supportedFeatures: z.array(nonEmpty).optional(),
      mandatoryFeatures: z.array(nonEmpty).default([]),
      sandboxPaths: z.array(nonEmpty).default([]),
      logLevel: z.enum(['debug', 'info', 'warn', 'error']).default('info'),
      inlineOutputs: z.boolean().default(true),
      metrics: z.object({ listen: nonEmpty.regex(/^(\[[0-9a-fA-F:.]+\]|[^:\s]*):\d{1,5}$/, "expected 'host:port'") }).strict().optional(),
    })
    .strict();
}

/** Compiles `input` (e.g. a parsed JSON file named `source`); FarmError INVALID_CONFIG on any problem. */
export function compileAgentConfig(input: unknown, source = 'agent config'): AgentConfig {
  const c = compileConfig(agentConfigSchema(), input ?? {}, source);
  const detected = detect(c.emulation, source);
  return {
    name: c.name ?? defaultAgentName(hostname()),
    stateDir: c.stateDir,
    coordinator: c.coordinator,
    nats: { servers: c.nats.servers },
    maxJobs: c.maxJobs ?? availableParallelism(),
    cores: c.cores,
    speedFactor: c.speedFactor,
    systems: c.systems ?? detected.systems,
    emulation: c.emulation,
    emulators: detected.emulators,
    supportedFeatures: c.supportedFeatures ?? detected.supportedFeatures,
    mandatoryFeatures: c.mandatoryFeatures,
    sandboxPaths: c.sandboxPaths,
    logLevel: c.logLevel,
    inlineOutputs: c.inlineOutputs,
    ...(c.metrics === undefined ? {} : { metrics: { listen: c.metrics.listen } }),
  };
}

/** The host's capabilities under the emulation setting; INVALID_CONFIG when the setting insists on what is missing. */
function detect(emulation: EmulationSetting, source: string): DetectedCapabilities {
  try {
    return detectCapabilities(hostProbe(), emulation);
  } catch (e) {
    throw new FarmError('INVALID_CONFIG', `invalid ${source}: emulation '${emulation}': ${(e as Error).message}`, { source });
  }
}

/** The hostname squeezed into the agent-name charset: `build-01.example.org` → `build-01-example-org`. */
export function defaultAgentName(host: string): string {
  const name = host
    .replace(/[^A-Za-z0-9_-]+/g, '-')
    .replace(/^-+|-+$/g, '')
    .slice(0, 64);
  return name === '' ? 'agent' : name;
}
