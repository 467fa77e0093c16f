/**
 * The Explain RPC's answer: the scheduler's Explanation (scheduler-types.ts) as the wire's
 * ExplainResponse. Optional facts become the proto's zero values (position 0 = not queued,
 * backoff_until_ms 0 = no backoff, agent_id '' = never leased), as proto3 has no presence.
 */
import type { ExplainAgent, ExplainResponse } from '@farm/proto';
import type { AgentView, Explanation } from '../core/scheduler-types.js';
import { jobStateName } from './convert.js';

/** An Explain request as received: the service checks that exactly one field is set. */
export interface ExplainQuery {
  readonly drvPath?: unknown;
  readonly jobId?: unknown;
}

/**
 * `lastAgentId`: the agent of the job's last event as the journal recorded it ('' = none). The
 * scheduler drops a finished job's lease, so for a built or failed job this is what still names
 * the agent it ran on.
 */
export function explanationToProto(e: Explanation, lastAgentId = ''): ExplainResponse {
  return {
    jobId: e.jobId,
    drvPath: e.drvPath,
    state: jobStateName(e.status),
    epoch: e.epoch,
    attempts: e.attempts,
    submissions: [...e.submissions],
    summary: e.summary,
    details: [...e.details],
    waitingFor: e.waitingFor.map((w) => ({ drvPath: w.drvPath, state: jobStateName(w.status) })),
    agents: e.agents.map(agentToProto),
    position: e.position ?? 0,
    backoffUntilMs: e.backoffUntil ?? 0,
    failedAgents: [...e.failedAgents],
    // A queued job has no agent, whatever its last attempt ran on (failedAgents says that).
    agentId: e.agentId ?? (e.status === 'ready' || e.status === 'waiting' ? '' : lastAgentId),
    placement: e.placement ?? '',
    // Predictions are averages (fractions of a millisecond); the wire carries whole ms.
    criticalPathMs: wholeMs(e.criticalPathMs),
    estimateMs: wholeMs(e.estimateMs),
    priority: e.priority,
  };
}

function agentToProto(a: AgentView): ExplainAgent {
  return {
    agentId: a.agentId,
    systems: [...a.systems],
    supportedFeatures: [...a.supportedFeatures],
    mandatoryFeatures: [...a.mandatoryFeatures],
    maxJobs: a.maxJobs,
    running: a.running,
    draining: a.draining,
    fits: a.fits,
  };
}

/** A non-negative whole number of ms (uint64 on the wire refuses fractions and NaN). */
function wholeMs(ms: number): number {
  return Number.isFinite(ms) && ms > 0 ? Math.round(ms) : 0;
}
