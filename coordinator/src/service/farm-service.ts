/**
 * FarmService: the coordinator's application layer — FarmStore + the pure Scheduler + durable
 * CoordinatorState. The NATS gateway calls it through AgentApi; the gRPC server calls its client
 * API (submit, watch, status, cancel, …). Every change it acknowledges is committed first.
 *
 * Construction (daemon/):
 *   const service = await FarmService.open({ store, state, clock, logger, options }); // replays persisted submissions
 *   service.start();   // lease-expiry / lost-agent timer, every min(1000, leaseMs/3) ms
 *   …
 *   await service.close(); // stops timers, resolves pending long polls with no work
 */
import { FarmError, type Clock, type Logger } from '@farm/common';
import type {
  AddPathHeader__Output,
  AddPathResponse,
  AgentHello__Output,
  AgentWelcome,
  BuildResult__Output,
  CancelResponse,
  Capabilities,
  Heartbeat__Output,
  HeartbeatAck,
  ListAgentsResponse,
  ListBuildsResponse,
  Revoke,
  StatusResponse,
  SubmitRequest__Output,
  SubmitResponse,
  WorkReply,
  WorkRequest__Output,
} from '@farm/proto';
import type { AgentApi, ApplyResultOutcome } from '../ports/agent-api.js';
import type { FarmStore } from '../ports/farm-store.js';
import type { CoordinatorState, EventRow } from './coordinator-state.js';

export interface FarmServiceOptions {
  readonly leaseMs: number;
  readonly heartbeatMs: number;
  readonly maxAttempts: number;
  readonly maxLogBytes: number;
  /** Per-job limits when a submission sets none (0 = none). */
  readonly defaultTimeoutMs: number;
  readonly defaultMaxSilentMs: number;
}

export interface FarmServiceDeps {
  readonly store: FarmStore;
  readonly state: CoordinatorState;
  readonly clock: Clock;
  readonly logger: Logger;
  readonly options: FarmServiceOptions;
}

/** Where a job's log stands, for the Logs RPC's follow mode. */
export interface JobLogState {
  readonly jobId: string;
  /** The job reached a terminal state (succeeded, failed, cancelled, …). */
  readonly terminal: boolean;
  /** The epoch of its last attempt (0 = it never ran). */
  readonly lastRunEpoch: number;
}

export class FarmService implements AgentApi {
  private constructor(readonly deps: FarmServiceDeps) {}

  static async open(deps: FarmServiceDeps): Promise<FarmService> {
    return new FarmService(deps);
  }

  start(): void {}
  async close(): Promise<void> {}

  // ---- AgentApi ----
  async register(_hello: AgentHello__Output): Promise<AgentWelcome> {
    throw notYet();
  }
  async heartbeat(_beat: Heartbeat__Output): Promise<HeartbeatAck> {
    throw notYet();
  }
  async requestWork(_request: WorkRequest__Output, _signal: AbortSignal): Promise<WorkReply> {
    throw notYet();
  }
  async applyResult(_result: BuildResult__Output): Promise<ApplyResultOutcome> {
    throw notYet();
  }
  onRevoke(_listener: (agentId: string, revoke: Revoke) => void): () => void {
    return () => {};
  }

  // ---- client API (gRPC) ----
  async submit(_request: SubmitRequest__Output): Promise<SubmitResponse> {
    throw notYet();
  }
  /** Persisted events from `fromSequence`, then live ones; ends after the `final` event. NOT_FOUND for unknown ids. */
  watch(_submissionId: string, _fromSequence: number, _signal: AbortSignal): AsyncIterable<EventRow> {
    throw notYet();
  }
  status(_submissionId?: string): StatusResponse {
    throw notYet();
  }
  async cancel(_submissionId: string): Promise<CancelResponse> {
    throw notYet();
  }
  listAgents(): ListAgentsResponse {
    throw notYet();
  }
  listBuilds(_drvPath?: string): ListBuildsResponse {
    throw notYet();
  }
  agentCapabilities(): Capabilities[] {
    return [];
  }
  /** The job id for a drv path, a job id or a drv basename; NOT_FOUND when there is no such job. */
  jobIdFor(_drvOrJob: string): string {
    throw notYet();
  }
  jobLogState(_jobId: string): JobLogState {
    throw notYet();
  }
  /** A path upload; a header with a lease must match the job's current lease ("stale lease" otherwise). */
  async addPath(_header: AddPathHeader__Output, _nar: AsyncIterable<Uint8Array>): Promise<AddPathResponse> {
    throw notYet();
  }
}

function notYet(): FarmError {
  return new FarmError('UNAVAILABLE', 'not implemented yet');
}
