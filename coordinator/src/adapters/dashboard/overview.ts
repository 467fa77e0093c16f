/**
 * What the dashboard shows, computed from the coordinator's committed state: the recent
 * submissions with their DAG progress, the running jobs, the queue with each job's reason and
 * the agents. Everything is read after the commit that the triggering event came from, so the
 * page never shows anything the farm has not made durable.
 *
 * Cost: one scan of each live submission's events per call (the latest event per job), one
 * Explain per shown queued job (at most OVERVIEW_LIMITS.queue), the agent list. The feed
 * (overview-feed.ts) computes it at most a few times a second, once for all open pages.
 */
import { parseStorePath } from '@farm/nix';
import type { CoordinatorState, EventRow, SubmissionRow } from '../../service/coordinator-state.js';
import { jobStatusOf } from '../../service/convert.js';
import type { FarmService } from '../../service/farm-service.js';
import type { DashboardAgent, DashboardJob, DashboardOverview, DashboardProgress, DashboardQueuedJob, DashboardSubmission } from './api-types.js';
import { traceLink } from './trace-link.js';

export const OVERVIEW_LIMITS = {
  /** Submissions listed (the most recent). */
  submissions: 25,
  /** Queued jobs explained and listed. */
  queue: 100,
  /** Jobs in one submission's job list. */
  jobs: 2000,
} as const;

export interface OverviewDeps {
  readonly service: Pick<FarmService, 'explain' | 'listAgents'>;
  readonly state: Pick<CoordinatorState, 'listSubmissions' | 'getSubmission' | 'events'>;
  readonly now: () => number;
  readonly version: string;
  /** `ops.traceUrl`: a template with `{traceId}`. */
  readonly traceUrl?: string | undefined;
}

export function buildOverview(deps: OverviewDeps): DashboardOverview {
  const rows = deps.state.listSubmissions();
  const recent = rows.slice(-OVERVIEW_LIMITS.submissions).reverse();
  const running: DashboardJob[] = [];
  const queued = new Map<string, DashboardJob>();
  const submissions = recent.map((row) => {
    const jobs = row.done ? [] : latestJobs(deps.state, row);
    for (const j of jobs) {
      if (j.state === 'running') running.push(j);
      else if (j.state === 'waiting' || j.state === 'ready') queued.set(j.jobId, j);
    }
    return submissionView(row, jobs, deps.traceUrl);
  });
  // Older live submissions (beyond the list) still have jobs in the queue and running.
  for (const row of rows.slice(0, -OVERVIEW_LIMITS.submissions)) {
    if (row.done) continue;
    for (const j of latestJobs(deps.state, row)) {
      if (j.state === 'running') running.push(j);
      else if (j.state === 'waiting' || j.state === 'ready') queued.set(j.jobId, j);
    }
  }
  return {
    nowMs: deps.now(),
    version: deps.version,
    submissions,
    submissionsTotal: rows.length,
    running: dedupe(running).sort((a, b) => a.sinceMs - b.sinceMs),
    queue: queueView(deps.service, [...queued.values()]),
    queueTotal: queued.size,
    agents: agentsView(deps.service),
  };
}

/** The latest state of each job of a submission (its persisted events; already-valid roots left out). */
export function latestJobs(state: Pick<CoordinatorState, 'events'>, row: SubmissionRow): DashboardJob[] {
  const latest = new Map<string, EventRow>();
  for (const e of state.events(row.id, 0)) if (!e.final && e.jobId !== '') latest.set(e.jobId, e);
  const out: DashboardJob[] = [];
  for (const e of latest.values()) {
    const status = jobStatusOf(e.state);
    if (status === 'already-valid') continue;
    out.push({ jobId: e.jobId, drvPath: e.drvPath, name: drvName(e.drvPath), state: status, agentId: e.agentId, reason: e.reason, sinceMs: e.timeMs });
  }
  return out;
}

export function submissionView(row: SubmissionRow, jobs: readonly DashboardJob[], traceUrl: string | undefined): DashboardSubmission {
  const progress: DashboardProgress = row.done
    ? { total: row.jobsTotal, succeeded: row.succeeded, failed: row.failed, running: 0, waiting: 0 }
    : {
        total: row.jobsTotal,
        succeeded: row.succeeded,
        failed: row.failed,
        running: jobs.filter((j) => j.state === 'running').length,
        waiting: jobs.filter((j) => j.state === 'waiting' || j.state === 'ready').length,
      };
  const link = traceLink(traceUrl, row.traceparent);
  return {
    id: row.id,
    client: row.client,
    createdMs: row.createdMs,
    roots: [...row.roots],
    done: row.done,
    outcome: !row.done ? 'running' : row.failed > 0 ? 'failed' : 'succeeded',
    progress,
    ...(link === undefined ? {} : { traceUrl: link }),
  };
}

/**
 * Each queued job with the one-sentence summary `farm explain` prints first (the same Explain
 * the gRPC handler answers), ready jobs first in queue order, then the waiting ones.
 */
function queueView(service: Pick<FarmService, 'explain'>, jobs: readonly DashboardJob[]): DashboardQueuedJob[] {
  const rank = (j: { readonly state: string }) => (j.state === 'ready' ? 0 : 1);
  const ordered = [...jobs].sort((a, b) => rank(a) - rank(b) || a.sinceMs - b.sinceMs);
  const out: DashboardQueuedJob[] = [];
  for (const j of ordered.slice(0, OVERVIEW_LIMITS.queue)) {
    let reason = j.reason;
    let position = 0;
    let submissions: readonly string[] = [];
    let state = j.state;
    try {
      const e = service.explain({ jobId: j.jobId });
      reason = e.summary ?? reason;
      position = e.position ?? 0;
      submissions = e.submissions ?? [];
      if (typeof e.state === 'string') state = jobStatusOf(e.state);
    } catch {
      // Gone from the scheduler between the events and now (finished, cancelled): the event's reason stands.
    }
    if (state !== 'waiting' && state !== 'ready') continue;
    out.push({ jobId: j.jobId, drvPath: j.drvPath, name: j.name, state, reason, position, submissions: [...submissions] });
  }
  return out.sort((a, b) => rank(a) - rank(b) || (a.position || Infinity) - (b.position || Infinity));
}

function agentsView(service: Pick<FarmService, 'listAgents'>): DashboardAgent[] {
  return (service.listAgents().agents ?? []).map((a) => {
    const caps = a.capabilities ?? {};
    const maxJobs = caps.maxJobs ?? 0;
    const running = a.running ?? 0;
    return {
      name: a.agentId ?? '',
      host: a.host ?? '',
      systems: [...(caps.systems ?? [])],
      supportedFeatures: [...(caps.supportedFeatures ?? [])],
      mandatoryFeatures: [...(caps.mandatoryFeatures ?? [])],
      maxJobs,
      running,
      freeSlots: Math.max(0, maxJobs - running),
      speedFactor: Number(caps.speedFactor ?? 1),
      draining: a.draining ?? false,
      lastHeartbeatMs: Number(a.lastHeartbeatMs ?? 0),
    };
  });
}

/** A job shared by several live submissions is listed once. */
function dedupe(jobs: readonly DashboardJob[]): DashboardJob[] {
  return [...new Map(jobs.map((j) => [j.jobId, j])).values()];
}

/** `/nix/store/<hash>-hello-2.12.drv` → `hello-2.12`. */
export function drvName(drvPath: string): string {
  try {
    return parseStorePath(drvPath).name.replace(/\.drv$/, '');
  } catch {
    return drvPath;
  }
}
