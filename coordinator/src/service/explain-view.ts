/**
 * The Explain RPC's answer: the scheduler's Explanation (scheduler-types.ts) as the wire's
 * ExplainResponse. Optional facts become the proto's zero values (position 0 = not queued,
 * backoff_until_ms 0 = no backoff, agent_id '' = never leased), as proto3 has no presence.
 */
import type { ExplainAgent, ExplainResponse } from '@farm/proto';
import type { AgentView, Explanation } from '../core/scheduler-types.js';
import type { BuildRow, JobRow } from './coordinator-state.js';
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

/**
 * A job the scheduler no longer holds — one that finished in an earlier run of the coordinator
 * (after a restart only unfinished submissions are replayed) — explained from what the state
 * kept: its last row and its build records. No queue facts: it is not queued.
 */
export function explanationFromRecords(job: JobRow, builds: readonly BuildRow[]): ExplainResponse {
  const last = builds.at(-1);
  const where = job.agentId !== '' ? ` on ${job.agentId}` : '';
  const details = builds.map((b) => `build (epoch ${b.epoch}) ${b.status}${b.agentId !== '' ? ` on ${b.agentId}` : ''} at ${new Date(b.finishedMs).toISOString()}${b.message !== '' ? `: ${b.message}` : ''}`);
  if (job.reason !== '') details.unshift(`reason: ${job.reason}`);
  return {
    jobId: job.jobId,
    drvPath: job.drvPath,
    state: jobStateName(job.status),
    epoch: job.epoch,
    attempts: builds.length,
    submissions: [],
    summary: `${job.status}${where} in an earlier run of the coordinator (it no longer tracks this job; these are its records)`,
    details,
    waitingFor: [],
    agents: [],
    position: 0,
    backoffUntilMs: 0,
    failedAgents: [],
    agentId: job.agentId !== '' ? job.agentId : (last?.agentId ?? ''),
    placement: '',
    criticalPathMs: 0,
    estimateMs: 0,
    priority: 0,
  };
}
