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

export function explanationToProto(e: Explanation): ExplainResponse {
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
    agentId: e.agentId ?? '',
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
