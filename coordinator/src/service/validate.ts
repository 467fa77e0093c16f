/**
 * Validation of everything agents and clients send, before any of it reaches the scheduler or
 * the store: bounded sizes, well-formed names, integers that really are integers. Each check
 * throws FarmError(INVALID_ARGUMENT) naming the field, so bad input never becomes a crash.
 */
import { isStorePath } from '@farm/nix';
import type { AgentCapabilities } from '../core/routing.js';
import type { Capabilities__Output } from '@farm/proto';
import { invalid } from './errors.js';

export const AGENT_NAME = /^[A-Za-z0-9_-]{1,64}$/;
/** A job id: the 32-character nix32 hash part of the drv path. */
export const JOB_ID = /^[0123456789abcdfghijklmnpqrsvwxyz]{32}$/;

export const LIMITS = {
  maxString: 4096,
  maxListItems: 256,
  maxLeases: 10_000,
  maxRoots: 100_000,
  maxMaxJobs: 4096,
  maxWaitMs: 120_000,
  maxMessage: 64 * 1024,
  maxLogTail: 64 * 1024,
} as const;

export function str(value: unknown, field: string, max: number = LIMITS.maxString): string {
  if (typeof value !== 'string') throw invalid(`${field} must be a string`);
  if (value.length > max) throw invalid(`${field} is ${value.length} characters long; the limit is ${max}`);
  return value;
}

export function nonEmpty(value: unknown, field: string, max: number = LIMITS.maxString): string {
  const s = str(value, field, max);
  if (s === '') throw invalid(`${field} must not be empty`);
  return s;
}

/** A uint64 as proto-loader delivers it (decimal string) or a number; must be a safe integer. */
export function uint(value: unknown, field: string, max = Number.MAX_SAFE_INTEGER): number {
  const n = typeof value === 'string' && /^\d{1,16}$/.test(value) ? Number(value) : typeof value === 'number' ? value : NaN;
  if (!Number.isSafeInteger(n) || n < 0) throw invalid(`${field} must be a non-negative integer, got ${JSON.stringify(value)}`);
  if (n > max) throw invalid(`${field} is ${n}; the limit is ${max}`);
  return n;
}

export function strList(value: unknown, field: string, maxItems: number = LIMITS.maxListItems, maxLength = 256): string[] {
  if (!Array.isArray(value)) throw invalid(`${field} must be a list`);
  if (value.length > maxItems) throw invalid(`${field} has ${value.length} items; the limit is ${maxItems}`);
  return value.map((v, i) => nonEmpty(v, `${field}[${i}]`, maxLength));
}

export function agentName(value: unknown, field = 'agentId'): string {
  const s = str(value, field, 64);
  if (!AGENT_NAME.test(s)) throw invalid(`${field} '${s}' must match ${AGENT_NAME.source}`);
  return s;
}

export function jobId(value: unknown, field = 'jobId'): string {
  const s = str(value, field, 64);
  if (!JOB_ID.test(s)) throw invalid(`${field} '${s}' is not a job id (the 32-character hash part of a drv path)`);
  return s;
}

export function drvPath(value: unknown, field: string): string {
  const s = nonEmpty(value, field, 512);
  if (!s.endsWith('.drv') || !isStorePath(s)) throw invalid(`${field} '${s}' is not a .drv store path`);
  return s;
}

export function capabilities(caps: Capabilities__Output | null | undefined): AgentCapabilities {
  if (caps === null || caps === undefined) throw invalid('capabilities are missing');
  const systems = strList(caps.systems, 'capabilities.systems', 64, 128);
  if (systems.length === 0) throw invalid('capabilities.systems must list at least one system');
  const maxJobs = uint(caps.maxJobs, 'capabilities.maxJobs', LIMITS.maxMaxJobs);
  if (maxJobs < 1) throw invalid('capabilities.maxJobs must be at least 1');
  const speed = caps.speedFactor;
  if (typeof speed !== 'number' || !Number.isFinite(speed) || speed < 0 || speed > 1e6) throw invalid(`capabilities.speedFactor must be a finite number ≥ 0, got ${String(speed)}`);
  const emulated = caps.emulated ?? {};
  if (typeof emulated !== 'object' || Array.isArray(emulated)) throw invalid('capabilities.emulated must be a map of system to description');
  const emulatedEntries = Object.entries(emulated);
  if (emulatedEntries.length > systems.length) throw invalid(`capabilities.emulated has ${emulatedEntries.length} entries, more than the ${systems.length} systems offered`);
  for (const [system, how] of emulatedEntries) {
    if (!systems.includes(system)) throw invalid(`capabilities.emulated names '${system.slice(0, 128)}', which is not among capabilities.systems`);
    str(how, `capabilities.emulated['${system}']`, 512);
  }
  return {
    systems,
    ...(emulatedEntries.length > 0 ? { emulated: Object.fromEntries(emulatedEntries) } : {}),
    supportedFeatures: strList(caps.supportedFeatures, 'capabilities.supportedFeatures', LIMITS.maxListItems, 128),
    mandatoryFeatures: strList(caps.mandatoryFeatures, 'capabilities.mandatoryFeatures', LIMITS.maxListItems, 128),
    maxJobs,
    // Unset (0) means the default speed, as in Nix's machines file.
    speedFactor: speed === 0 ? 1 : speed,
  };
}
