/**
 * AgentApi: what the coordinator offers its agents, whatever carries it (the NATS gateway in
 * adapters/nats calls it; the service implements it). Every method commits the state change it
 * makes to LMDB before it resolves, so the reply the gateway sends is never ahead of the disk.
 */
import type {
  AgentHello__Output,
  AgentWelcome,
  BuildResult__Output,
  Heartbeat__Output,
  HeartbeatAck,
  Revoke,
  WorkReply,
  WorkRequest__Output,
} from '@farm/proto';

export interface ApplyResultOutcome {
  /** False when the result was refused (stale epoch, unknown job, outputs missing, …). */
  readonly accepted: boolean;
  readonly reason?: string;
}

export interface AgentApi {
  /** Registers (or re-registers) an agent; its id is `hello.name`. INVALID_ARGUMENT on bad capabilities. */
  register(hello: AgentHello__Output): Promise<AgentWelcome>;
  /** Renews leases; NOT_FOUND for an agent that is not registered (it must register again). */
  heartbeat(beat: Heartbeat__Output): Promise<HeartbeatAck>;
  /**
   * Long poll: resolves as soon as at least one assignment is available for the agent, or with
   * no assignments once `request.waitMs` has passed or `signal` is aborted.
   */
  requestWork(request: WorkRequest__Output, signal: AbortSignal): Promise<WorkReply>;
  /** Applies a result idempotently (the same (job, epoch) twice is a no-op the second time). */
  applyResult(result: BuildResult__Output): Promise<ApplyResultOutcome>;
  /** Revocations to deliver on SUBJECTS.control(agentId); returns an unsubscribe function. */
  onRevoke(listener: (agentId: string, revoke: Revoke) => void): () => void;
}
