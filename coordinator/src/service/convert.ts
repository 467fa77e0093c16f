/**
 * Conversions between the nix library's types, the scheduler's and the wire's: PathInfo both
 * ways, BasicDerivation to the proto message, job statuses to JobState names and build statuses
 * to scheduler outcomes (the contract's table: SANDBOX_ERROR and TRANSFER_ERROR are
 * infrastructure failures, retried; everything else that is not BUILT is a build failure).
 */
import { FarmError } from '@farm/common';
import { Hash, type BasicDerivation, type PathInfo } from '@farm/nix';
import type { BasicDerivation as ProtoBasicDerivation, JobState__Output, PathInfo as ProtoPathInfo, PathInfo__Output } from '@farm/proto';
import type { BuildOutcome, JobStatus } from '../core/scheduler-types.js';
import { invalid } from './errors.js';
import { LIMITS, nonEmpty, str, strList, uint } from './validate.js';

export function pathInfoToProto(info: PathInfo): ProtoPathInfo {
  return {
    path: info.path,
    deriver: info.deriver ?? '',
    narHash: info.narHash.toPrefixed('nix32'),
    narSize: info.narSize.toString(),
    references: [...info.references],
    registrationTime: info.registrationTime.toString(),
    sigs: [...info.sigs],
    ca: info.ca ?? '',
  };
}

/** A PathInfo as a client sent it; shape errors are INVALID_ARGUMENT (the store checks the rest). */
export function pathInfoFromProto(p: PathInfo__Output | null | undefined): PathInfo {
  if (p === null || p === undefined) throw invalid('the header has no path info');
  const path = nonEmpty(p.path, 'info.path', 512);
  let narHash: Hash;
  try {
    narHash = Hash.parse(nonEmpty(p.narHash, 'info.narHash', 256));
  } catch (e) {
    throw new FarmError('INVALID_ARGUMENT', `${path}: bad narHash '${String(p.narHash)}': ${(e as Error).message}`);
  }
  const deriver = str(p.deriver, 'info.deriver', 512);
  const ca = str(p.ca, 'info.ca', 512);
  return {
    path,
    ...(deriver !== '' ? { deriver } : {}),
    narHash,
    narSize: BigInt(uint(p.narSize, 'info.narSize')),
    references: strList(p.references, 'info.references', 1_000_000, 512),
    registrationTime: 0n,
    ultimate: false,
    sigs: strList(p.sigs, 'info.sigs', 64, 1024),
    ...(ca !== '' ? { ca } : {}),
  };
}

export function basicDerivationToProto(drv: BasicDerivation): ProtoBasicDerivation {
  const outputs: Record<string, { path: string; hashAlgo: string; hash: string }> = {};
  for (const [name, o] of drv.outputs) outputs[name] = { path: o.path, hashAlgo: o.hashAlgo, hash: o.hash };
  return {
    outputs,
    inputSrcs: [...drv.inputSrcs],
    system: drv.system,
    builder: drv.builder,
    args: [...drv.args],
    // fromEntries defines own properties, so an env var named __proto__ stays an env var.
    env: Object.fromEntries(drv.env),
  };
}

const JOB_STATES: Readonly<Record<JobStatus, JobState__Output>> = {
  waiting: 'JOB_STATE_WAITING',
  ready: 'JOB_STATE_READY',
  running: 'JOB_STATE_RUNNING',
  succeeded: 'JOB_STATE_SUCCEEDED',
  failed: 'JOB_STATE_FAILED',
  'dependency-failed': 'JOB_STATE_DEPENDENCY_FAILED',
  cancelled: 'JOB_STATE_CANCELLED',
  'already-valid': 'JOB_STATE_ALREADY_VALID',
};

export function jobStateName(status: JobStatus): JobState__Output {
  return JOB_STATES[status];
}

const JOB_STATUSES = new Map(Object.entries(JOB_STATES).map(([status, name]) => [name as string, status as JobStatus]));

/** `JOB_STATE_RUNNING` → `running` (the inverse of jobStateName). */
export function jobStatusOf(name: string): JobStatus {
  const status = JOB_STATUSES.get(name);
  if (status === undefined) throw new FarmError('INTERNAL', `unknown job state ${name}`);
  return status;
}

export const TERMINAL_JOB_STATUSES: ReadonlySet<JobStatus> = new Set(['succeeded', 'failed', 'dependency-failed', 'cancelled', 'already-valid']);

const BUILD_STATUSES = [
  'BUILD_STATUS_BUILT',
  'BUILD_STATUS_FAILED',
  'BUILD_STATUS_TIMED_OUT',
  'BUILD_STATUS_SILENT_TOO_LONG',
  'BUILD_STATUS_OUTPUT_MISSING',
  'BUILD_STATUS_LOG_LIMIT',
  'BUILD_STATUS_SANDBOX_ERROR',
  'BUILD_STATUS_TRANSFER_ERROR',
  'BUILD_STATUS_CANCELLED',
] as const;
export type KnownBuildStatus = (typeof BUILD_STATUSES)[number];

export function buildStatus(value: unknown): KnownBuildStatus {
  if (typeof value === 'string' && (BUILD_STATUSES as readonly string[]).includes(value)) return value as KnownBuildStatus;
  throw invalid(`status ${JSON.stringify(value)} is not a known build status`);
}

/** `BUILD_STATUS_TIMED_OUT` → `timed-out` (the BuildRecord's status). */
export function buildStatusLabel(status: KnownBuildStatus): string {
  return status.slice('BUILD_STATUS_'.length).toLowerCase().replaceAll('_', '-');
}

const INFRASTRUCTURE: ReadonlySet<KnownBuildStatus> = new Set(['BUILD_STATUS_SANDBOX_ERROR', 'BUILD_STATUS_TRANSFER_ERROR']);

/**
 * The scheduler outcome of a non-BUILT result. The reason people see is the agent's message (or
 * the status when it sent none) followed by the last lines of the log.
 */
export function failureOutcome(status: KnownBuildStatus, message: string, logTail: Uint8Array): BuildOutcome {
  const what = message.trim() !== '' ? message.trim() : buildStatusLabel(status);
  const tailText = Buffer.from(logTail.subarray(Math.max(0, logTail.length - LIMITS.maxLogTail))).toString('utf8').trimEnd();
  const reason = tailText === '' ? what : `${what}\n--- last log lines ---\n${tailText}`;
  return INFRASTRUCTURE.has(status) ? { kind: 'infrastructure-failure', message: reason } : { kind: 'build-failure', message: reason };
}
