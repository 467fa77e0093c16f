/**
 * BuildResult on the wire, shared by both protocols with different version gates (spec §6.3,
 * §6.4, §7.4): status, errorMsg, [times], [cpu times, worker ≥1.37 only], [builtOutputs].
 * builtOutputs keep each Realisation as the exact JSON text received (it is hashed/signed
 * elsewhere and must round-trip byte for byte).
 */
import { NixFormatError } from '../errors.js';
import type { WireReader } from './reader.js';
import { protocolMinor } from './version.js';
import type { WireWriter } from './writer.js';
import { nameLookup } from './name-lookup.js';

/** Status numbers from build-result.hh; identical in both protocols. */
export const BuildStatus = {
  Built: 0,
  Substituted: 1,
  AlreadyValid: 2,
  PermanentFailure: 3,
  InputRejected: 4,
  OutputRejected: 5,
  TransientFailure: 6,
  CachedFailure: 7,
  TimedOut: 8,
  MiscFailure: 9,
  DependencyFailed: 10,
  LogLimitExceeded: 11,
  NotDeterministic: 12,
  ResolvesToAlreadyValid: 13,
  NoSubstituters: 14,
} as const;
export type BuildStatusName = keyof typeof BuildStatus;

export const buildStatusName: (status: number) => BuildStatusName | undefined = nameLookup(BuildStatus);

/** Built, Substituted, AlreadyValid and ResolvesToAlreadyValid count as success. */
export function isBuildSuccess(status: number): boolean {
  return status === 0 || status === 1 || status === 2 || status === 13;
}

export interface BuiltOutput {
  /** DrvOutput id, `sha256:<hex>!<output>`. */
  readonly id: string;
  /** The Realisation JSON exactly as on the wire. */
  readonly realisation: string;
}

export interface BuildResult {
  readonly status: number;
  readonly errorMsg: string;
  readonly timesBuilt: number;
  readonly isNonDeterministic: boolean;
  readonly startTime: number;
  readonly stopTime: number;
  /** Microseconds; only on the wire for worker ≥ 1.37. */
  readonly cpuUser?: number | undefined;
  readonly cpuSystem?: number | undefined;
  readonly builtOutputs: readonly BuiltOutput[];
}

/** Which optional groups a protocol version carries. */
export interface BuildResultLayout {
  readonly times: boolean;
  readonly cpuTimes: boolean;
  readonly builtOutputs: boolean;
}

export function workerBuildResultLayout(version: number): BuildResultLayout {
  const minor = protocolMinor(version);
  return { times: minor >= 29, cpuTimes: minor >= 37, builtOutputs: minor >= 28 };
}

/** Serve: times from 2.3, builtOutputs from 2.6 (not Nix 2.8's buggy `>= 3` test, spec §6.3). */
export function serveBuildResultLayout(version: number): BuildResultLayout {
  const minor = protocolMinor(version);
  return { times: minor >= 3, cpuTimes: false, builtOutputs: minor >= 6 };
}

export function writeBuildResult(w: WireWriter, r: BuildResult, layout: BuildResultLayout): void {
  w.u64(r.status, 'status').string(r.errorMsg);
  if (layout.times) w.u64(r.timesBuilt).bool(r.isNonDeterministic).u64(r.startTime).u64(r.stopTime);
  if (layout.cpuTimes) for (const t of [r.cpuUser, r.cpuSystem]) t === undefined ? w.u64(0) : w.u64(1).u64(t);
  if (layout.builtOutputs) {
    w.map(
      r.builtOutputs.map((o) => [o.id, o.realisation] as const),
      (x, k) => x.string(k),
      (x, v) => x.string(v),
    );
  }
}

export async function readBuildResult(r: WireReader, layout: BuildResultLayout): Promise<BuildResult> {
  const status = await r.readInt('BuildResult status');
  const errorMsg = await r.readString('BuildResult errorMsg');
  let timesBuilt = 0;
  let isNonDeterministic = false;
  let startTime = 0;
  let stopTime = 0;
  if (layout.times) {
    timesBuilt = await r.readInt('timesBuilt');
    isNonDeterministic = await r.readBool('isNonDeterministic');
    startTime = await r.readNumber('startTime');
    stopTime = await r.readNumber('stopTime');
  }
  let cpuUser: number | undefined;
  let cpuSystem: number | undefined;
  if (layout.cpuTimes) {
    cpuUser = await readOptionalMicros(r, 'cpuUser');
    cpuSystem = await readOptionalMicros(r, 'cpuSystem');
  }
  const builtOutputs: BuiltOutput[] = [];
  if (layout.builtOutputs) {
    for (const [id, realisation] of await r.readStringPairs('builtOutputs')) builtOutputs.push({ id, realisation });
  }
  const base = { status, errorMsg, timesBuilt, isNonDeterministic, startTime, stopTime, builtOutputs };
  return layout.cpuTimes ? { ...base, cpuUser, cpuSystem } : base;
}

async function readOptionalMicros(r: WireReader, field: string): Promise<number | undefined> {
  const at = r.offset;
  const tag = await r.readU64(`${field} tag`);
  if (tag === 0n) return undefined;
  if (tag !== 1n) throw new NixFormatError('BAD_WIRE', `${field}: optional tag must be 0 or 1, got ${tag}`, { offset: at });
  return r.readNumber(field);
}
