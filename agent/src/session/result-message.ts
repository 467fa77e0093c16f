/**
 * The BuildResult message an attempt ends with, and the contract's status mapping from the
 * builder's status. hash-mismatch has no status of its own on the wire: it is a FAILED build
 * whose message says so (buildDerivation's message already reads "hash mismatch in fixed-output
 * derivation …").
 */
import type { BuildResult as BuildResultMessage, BuildStatus as WireStatus, PathInfo } from '@farm/proto';
import type { BuildStatus } from '../build/types.js';

export type WireBuildStatus = Exclude<WireStatus, number>;

const STATUS: Readonly<Record<BuildStatus, WireBuildStatus>> = {
  built: 'BUILD_STATUS_BUILT',
  failed: 'BUILD_STATUS_FAILED',
  'timed-out': 'BUILD_STATUS_TIMED_OUT',
  'silent-too-long': 'BUILD_STATUS_SILENT_TOO_LONG',
  'output-missing': 'BUILD_STATUS_OUTPUT_MISSING',
  'log-limit-exceeded': 'BUILD_STATUS_LOG_LIMIT',
  'hash-mismatch': 'BUILD_STATUS_FAILED',
  'sandbox-error': 'BUILD_STATUS_SANDBOX_ERROR',
  cancelled: 'BUILD_STATUS_CANCELLED',
};

export function wireStatusOf(status: BuildStatus): WireBuildStatus {
  return STATUS[status];
}

export interface AttemptOutcome {
  readonly status: WireBuildStatus;
  readonly message: string;
  readonly outputs: readonly PathInfo[];
  readonly logTail: readonly string[];
  readonly startMs: number;
  readonly stopMs: number;
  /** The outputs' NARs when they ride with the result instead of AddPath uploads. */
  readonly outputNars?: readonly { readonly path: string; readonly nar: Uint8Array }[];
}

export function buildResultMessage(agentId: string, lease: { jobId: string; epoch: string }, o: AttemptOutcome): BuildResultMessage {
  return {
    lease: { jobId: lease.jobId, epoch: lease.epoch },
    agentId,
    status: o.status,
    message: o.message,
    outputs: [...o.outputs],
    logTail: Buffer.from(o.logTail.join('\n'), 'utf8'),
    startMs: String(Math.max(0, Math.trunc(o.startMs))),
    stopMs: String(Math.max(0, Math.trunc(o.stopMs))),
    outputNars: (o.outputNars ?? []).map((n) => ({ path: n.path, nar: n.nar })),
  };
}
