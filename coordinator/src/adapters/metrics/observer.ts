/**
 * What the coordinator's adapters report to its metrics (adapters/metrics/coordinator-metrics.ts),
 * as a plain interface so that the gRPC server, the NATS gateway and the results consumer never
 * import prom-client: they get an observer passed in, and NO_OBSERVER when metrics are off.
 * Every method is cheap and synchronous (a counter increment) and must never throw.
 */
import type { BuildResult__Output } from '@farm/proto';
import type { ApplyResultOutcome } from '../../ports/agent-api.js';

/** Who sent an upload: an agent (AddPath under a lease, or NARs carried by a result) or a client. */
export type UploadSource = 'agent' | 'client';
/** How NAR bytes left the coordinator: a GetNar stream, or inline in an assignment. */
export type DownloadVia = 'grpc' | 'inline';

export interface CoordinatorObserver {
  /** A gRPC call ended with an error; `code` is the farm error code it was mapped to. */
  grpcError(method: string, code: string): void;
  /** Something on NATS failed (see docs/observability.md for the operation names). */
  natsError(operation: string): void;
  /** NAR bytes received for the farm store. */
  bytesReceived(source: UploadSource, bytes: number): void;
  /** NAR bytes sent to agents and clients. */
  bytesSent(via: DownloadVia, bytes: number): void;
  /** The results consumer handed a decoded BuildResult to the service, and this came of it. */
  resultApplied(result: BuildResult__Output, outcome: ApplyResultOutcome): void;
}

export const NO_OBSERVER: CoordinatorObserver = {
  grpcError: () => undefined,
  natsError: () => undefined,
  bytesReceived: () => undefined,
  bytesSent: () => undefined,
  resultApplied: () => undefined,
};

/** The NAR bytes a result carries inline (small outputs ride with it instead of AddPath). */
export function inlineNarBytes(result: BuildResult__Output): number {
  let n = 0;
  for (const o of result.outputNars ?? []) n += o.nar?.length ?? 0;
  return n;
}
