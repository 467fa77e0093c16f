/**
 * Read-only views for Status and ListAgents, and the row → proto conversions they share.
 * Status of one submission is derived from its persisted event log (the latest event per job),
 * so it reads the same before and after a restart; the farm-wide job counts are this run's jobs.
 */
import type { Capabilities, JobState, StatusResponse, SubmissionEvent, SubmissionSummary, AgentInfo } from '@farm/proto';
import type { AgentCapabilities } from '../core/routing.js';
import type { AgentEntry } from './agent-registry.js';
import type { CoordinatorState, EventRow, JobRow, SubmissionRow } from './coordinator-state.js';
import { jobStateName } from './convert.js';

export function eventToProto(e: EventRow): SubmissionEvent {
  return { ...e, outputs: { ...e.outputs }, state: e.state as JobState };
}

export function capabilitiesToProto(c: AgentCapabilities): Capabilities {
  return {
    systems: [...c.systems],
    supportedFeatures: [...c.supportedFeatures],
    mandatoryFeatures: [...c.mandatoryFeatures],
    maxJobs: c.maxJobs,
    speedFactor: c.speedFactor,
    emulated: { ...c.emulated },
  };
}

export function summaryOf(r: SubmissionRow): SubmissionSummary {
  return {
    submissionId: r.id,
    client: r.client,
    createdMs: r.createdMs,
    jobsTotal: r.jobsTotal,
    succeeded: r.succeeded,
    failed: r.failed,
    done: r.done,
    roots: [...r.roots],
  };
}

/** One submission: the latest event of each of its jobs, counted by state. O(its events). */
export function submissionStatus(state: CoordinatorState, row: SubmissionRow): StatusResponse {
  const latest = new Map<string, EventRow>();
  for (const e of state.events(row.id, 0)) if (!e.final && e.jobId !== '') latest.set(e.jobId, e);
  const jobsByState: Record<string, number> = {};
  for (const e of latest.values()) jobsByState[e.state] = (jobsByState[e.state] ?? 0) + 1;
  return { jobsByState, jobs: [...latest.values()].map(eventToProto), submissions: [summaryOf(row)] };
}

/** The farm: this run's jobs by state, and every submission (live rows where there are some). */
export function farmStatus(jobs: Iterable<JobRow>, submissions: readonly SubmissionRow[]): StatusResponse {
  const jobsByState: Record<string, number> = {};
  for (const j of jobs) {
    const name = jobStateName(j.status);
    jobsByState[name] = (jobsByState[name] ?? 0) + 1;
  }
  return { jobsByState, jobs: [], submissions: submissions.map(summaryOf) };
}

export function agentsView(agents: readonly AgentEntry[], jobs: Iterable<JobRow>): AgentInfo[] {
  const running = new Map<string, number>();
  for (const j of jobs) {
    if (j.status === 'running' && j.agentId !== '') running.set(j.agentId, (running.get(j.agentId) ?? 0) + 1);
  }
  return agents.map((a) => ({
    agentId: a.agentId,
    host: a.host,
    capabilities: capabilitiesToProto(a.capabilities),
    running: running.get(a.agentId) ?? 0,
    draining: a.draining,
    lastHeartbeatMs: a.lastHeartbeatMs,
  }));
}
