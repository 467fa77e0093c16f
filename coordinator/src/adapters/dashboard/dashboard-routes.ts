/**
 * The live dashboard on the coordinator's ops endpoint (adapters/http-ops/):
 *
 *   GET /                          the page (coordinator/dashboard/index.html)
 *   GET /assets/<name>             its script modules and stylesheet (static-assets.ts)
 *   GET /api/overview              DashboardOverview as JSON (overview.ts)
 *   GET /api/events                server-sent `overview` events: the current overview at once,
 *                                  then one per change of the farm (overview-feed.ts)
 *   GET /api/submissions/<id>      DashboardSubmissionJobs: one submission and its jobs
 *   GET /api/jobs/<jobId>/log      server-sent `chunk` events of a job's log, live (log-stream.ts)
 *
 * Everything is read-only: the dashboard shows the farm, it does not change it.
 */
import type { Clock, Logger } from '@farm/common';
import type { FarmStore } from '../../ports/farm-store.js';
import type { LogSource } from '../../ports/log-source.js';
import type { CoordinatorState } from '../../service/coordinator-state.js';
import { FARM_VERSION, type FarmService } from '../../service/farm-service.js';
import { JOB_ID } from '../../service/validate.js';
import { sendJson, type OpsRoute } from '../http-ops/ops-server.js';
import type { DashboardJob, DashboardOverview, DashboardSubmissionJobs } from './api-types.js';
import { streamJobLog } from './log-stream.js';
import { OverviewFeed } from './overview-feed.js';
import { buildOverview, latestJobs, OVERVIEW_LIMITS, submissionView } from './overview.js';
import { openSse } from './sse.js';
import { DEFAULT_ASSET_DIRS, sendAsset, type AssetDirs } from './static-assets.js';

export interface DashboardDeps {
  readonly service: FarmService;
  readonly state: CoordinatorState;
  readonly store: FarmStore;
  readonly logs: LogSource;
  readonly clock: Clock;
  readonly logger: Logger;
  /** `ops.traceUrl`: the tracing UI's trace page with `{traceId}` in it; undefined = no links. */
  readonly traceUrl?: string | undefined;
  /** As the gRPC Logs call (default 10 s). */
  readonly logEofGraceMs?: number;
  /** Where the page's files are (default: next to this module's package). */
  readonly assets?: AssetDirs;
  /** Coalescing of overview updates (default 250 ms) and the periodic refresh (default 5 s). */
  readonly minIntervalMs?: number;
  readonly refreshMs?: number;
}

const SUBMISSION_ID = /^[A-Za-z0-9_.:-]{1,128}$/;

export function dashboardRoutes(deps: DashboardDeps): OpsRoute[] {
  const overview = () =>
    buildOverview({ service: deps.service, state: deps.state, now: () => deps.clock.now(), version: FARM_VERSION, traceUrl: deps.traceUrl });
  const feed = new OverviewFeed({
    compute: overview,
    onChange: (listener) => deps.service.onSchedulerEvents(() => listener()),
    logger: deps.logger,
    ...(deps.minIntervalMs === undefined ? {} : { minIntervalMs: deps.minIntervalMs }),
    ...(deps.refreshMs === undefined ? {} : { refreshMs: deps.refreshMs }),
  });
  const assets = deps.assets ?? DEFAULT_ASSET_DIRS;
  const notFound = (res: Parameters<typeof sendJson>[0], what: string) => sendJson(res, 404, { error: { code: 'NOT_FOUND', message: `no ${what} here` } });
  /** The derivation's system, for job lists (derivations never change, so this may be cached). */
  const systems = new Map<string, string>();
  const systemOf = async (drvPath: string): Promise<string> => {
    let system = systems.get(drvPath);
    if (system === undefined) {
      system = (await deps.store.getDerivation(drvPath).catch(() => undefined))?.system ?? '';
      if (systems.size > 100_000) systems.clear();
      systems.set(drvPath, system);
    }
    return system;
  };

  return [
    {
      path: /^\/(index\.html)?$/,
      handle: async ({ res }) => {
        if (!(await sendAsset(res, assets, 'index.html'))) notFound(res, 'dashboard page (coordinator/dashboard/index.html is missing)');
      },
    },
    {
      path: /^\/assets\/([^/]+)$/,
      handle: async ({ res, match }) => {
        let name: string;
        try {
          name = decodeURIComponent(match?.[1] ?? '');
        } catch {
          return notFound(res, 'such asset');
        }
        if (!(await sendAsset(res, assets, name))) notFound(res, 'such asset');
      },
    },
    { path: '/api/overview', handle: ({ res }) => sendJson(res, 200, overview()) },
    {
      path: '/api/events',
      handle: async ({ res, signal }) => {
        const sse = openSse(res, signal);
        // A slow page gets the latest overview once it can take one, not a backlog of stale ones.
        let latest: DashboardOverview | undefined;
        let sending = false;
        const push = async (o: DashboardOverview) => {
          latest = o;
          if (sending) return;
          sending = true;
          try {
            while (latest !== undefined) {
              const next = latest;
              latest = undefined;
              await sse.send('overview', next);
            }
          } finally {
            sending = false;
          }
        };
        await new Promise<void>((resolve) => {
          const off = feed.subscribe((o) => void push(o));
          signal.addEventListener('abort', () => {
            off();
            resolve();
          }, { once: true });
        });
        sse.end();
      },
    },
    {
      path: /^\/api\/submissions\/([^/]+)$/,
      handle: async ({ res, match }) => {
        const id = decodeURIComponent(match?.[1] ?? '');
        const row = SUBMISSION_ID.test(id) ? deps.state.getSubmission(id) : undefined;
        if (row === undefined) return notFound(res, `submission ${JSON.stringify(id)}`);
        const jobs = latestJobs(deps.state, row).sort((a, b) => a.sinceMs - b.sinceMs);
        const shown: DashboardJob[] = [];
        for (const j of jobs.slice(0, OVERVIEW_LIMITS.jobs)) shown.push({ ...j, system: await systemOf(j.drvPath) });
        const body: DashboardSubmissionJobs = { submission: submissionView(row, jobs, deps.traceUrl), jobs: shown, jobsTotal: jobs.length };
        sendJson(res, 200, body);
      },
    },
    {
      path: /^\/api\/jobs\/([^/]+)\/log$/,
      handle: async ({ res, match, signal }) => {
        const jobId = match?.[1] ?? '';
        if (!JOB_ID.test(jobId)) return notFound(res, `job ${JSON.stringify(jobId)} (a job id is the 32-character hash part of its drv path)`);
        await streamJobLog({ service: deps.service, logs: deps.logs, graceMs: deps.logEofGraceMs ?? 10_000 }, jobId, res, signal);
      },
    },
  ];
}
