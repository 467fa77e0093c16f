/**
 * The coordinator's Prometheus metrics, in their own registry (never prom-client's global one,
 * so two coordinators in one process — tests — do not mix). Three sources:
 * - the committed scheduler events (FarmService.onSchedulerEvents) → queue waits, dispatch
 *   latency, retries, lease losses, dedup hits (job-lifecycle.ts, new-submissions.ts);
 * - adapters reporting through the CoordinatorObserver interface (observer.ts) → builds by
 *   outcome and their durations, bytes in and out, gRPC and NATS errors;
 * - read-only views read at scrape time (collect callbacks) → jobs by state, queue depth per
 *   routing bucket, agent slots, the store's size.
 * Names follow Prometheus conventions: `farm_` prefix, base units (seconds, bytes), counters end
 * in `_total`. docs/observability.md lists every metric.
 */
import type { Clock, Logger } from '@farm/common';
import type { BuildResult__Output, ListAgentsResponse } from '@farm/proto';
import type { NatsConnection } from '@nats-io/transport-node';
import { collectDefaultMetrics, Counter, Gauge, Histogram, Registry } from 'prom-client';
import type { JobStatus, SchedulerEvent } from '../../core/scheduler-types.js';
import type { ApplyResultOutcome } from '../../ports/agent-api.js';
import type { JobRow, SubmissionRow } from '../../service/coordinator-state.js';
import { JobLifecycle } from './job-lifecycle.js';
import { NewSubmissions } from './new-submissions.js';
import { inlineNarBytes, type CoordinatorObserver, type DownloadVia, type UploadSource } from './observer.js';
import { bucketLabels, type BucketLabels, type RoutingOf } from './routing-buckets.js';

/** What the metrics read of the service (FarmService has all of it). */
export interface MetricsServiceView {
  onSchedulerEvents(listener: (events: readonly SchedulerEvent[]) => void): () => void;
  /** This run's jobs as last committed. */
  jobRows(): Iterable<Readonly<JobRow>>;
  listAgents(): ListAgentsResponse;
}

export interface CoordinatorMetricsDeps {
  readonly service: MetricsServiceView;
  /** A job's system and required features (FarmService.routingOf), for the routing bucket labels. */
  readonly routingOf: RoutingOf;
  /** Valid paths and their NAR bytes in the farm store. */
  readonly storeUsage: () => { readonly paths: number; readonly narBytes: number };
  /** A submission's row (its admission figures). */
  readonly submissionRow: (id: string) => SubmissionRow | undefined;
  readonly clock: Clock;
  readonly logger: Logger;
  /** Node.js process metrics (process_*, nodejs_*); default true. */
  readonly processMetrics?: boolean;
}

export const JOB_STATES: readonly Exclude<JobStatus, 'already-valid'>[] = ['waiting', 'ready', 'running', 'succeeded', 'failed', 'dependency-failed', 'cancelled'];
/** Build outcomes as results report them (BuildRecord.status). */
export const BUILD_OUTCOMES = ['built', 'failed', 'timed-out', 'silent-too-long', 'output-missing', 'log-limit', 'sandbox-error', 'transfer-error', 'cancelled'] as const;

/** Seconds: from milliseconds (dispatch) to an hour (a long queue). */
const QUEUE_WAIT_BUCKETS = [0.005, 0.025, 0.1, 0.5, 1, 5, 15, 60, 300, 900, 3600];
const DISPATCH_BUCKETS = [0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 5];
const BUILD_DURATION_BUCKETS = [0.1, 0.5, 1, 2.5, 5, 10, 30, 60, 300, 900, 1800, 3600, 7200];

/** `BUILD_STATUS_TIMED_OUT` → `timed-out` (as ListBuilds' status). */
export function outcomeLabel(status: string): string {
  return status.replace(/^BUILD_STATUS_/, '').toLowerCase().replaceAll('_', '-');
}

export class CoordinatorMetrics implements CoordinatorObserver {
  readonly registry = new Registry();
  private readonly lifecycle: JobLifecycle;
  private readonly submissions: NewSubmissions;
  private readonly stops: (() => void)[] = [];

  private readonly builds: Counter<'outcome'>;
  private readonly buildDuration: Histogram<'outcome'>;
  private readonly queueWait: Histogram<'system' | 'features'>;
  private readonly dispatch: Histogram;
  private readonly retries: Counter;
  private readonly leaseLosses: Counter<'cause'>;
  private readonly dedupHits: Counter<'kind'>;
  private readonly submitted: Counter;
  private readonly uploaded: Counter<'source'>;
  private readonly downloaded: Counter<'via'>;
  private readonly grpcErrors: Counter<'method' | 'code'>;
  private readonly natsErrors: Counter<'operation'>;

  constructor(private readonly deps: CoordinatorMetricsDeps) {
    const registers = [this.registry];

    this.builds = new Counter({ name: 'farm_builds_total', help: 'Build results applied, by outcome (built, failed, timed-out, …; as farm builds shows them).', labelNames: ['outcome'], registers });
    this.buildDuration = new Histogram({ name: 'farm_build_duration_seconds', help: "Build attempts' duration on their agent (the result's stop - start), by outcome.", labelNames: ['outcome'], buckets: BUILD_DURATION_BUCKETS, registers });
    for (const o of BUILD_OUTCOMES) this.builds.inc({ outcome: o }, 0);
    this.queueWait = new Histogram({ name: 'farm_queue_wait_seconds', help: 'Time jobs spent ready in the queue before an agent was given them, per routing bucket (system, required features).', labelNames: ['system', 'features'], buckets: QUEUE_WAIT_BUCKETS, registers });
    this.dispatch = new Histogram({ name: 'farm_dispatch_latency_seconds', help: 'Ready → assigned latency of all jobs (fine buckets for the dispatch budget).', buckets: DISPATCH_BUCKETS, registers });
    this.retries = new Counter({ name: 'farm_retries_total', help: 'Jobs put back in the queue after a failed attempt (infrastructure failure, lost agent, expired lease).', registers });
    this.leaseLosses = new Counter({ name: 'farm_lease_expiries_total', help: "Leases lost: their deadline passed without a heartbeat (deadline) or their agent went silent and was removed (agent-lost).", labelNames: ['cause'], registers });
    for (const cause of ['deadline', 'agent-lost']) this.leaseLosses.inc({ cause }, 0);
    this.dedupHits = new Counter({ name: 'farm_dedup_hits_total', help: 'Derivations new submissions did not have to build: outputs already valid (already-valid) or a job already queued or running for another submission (shared).', labelNames: ['kind'], registers });
    for (const kind of ['already-valid', 'shared']) this.dedupHits.inc({ kind }, 0);
    this.submitted = new Counter({ name: 'farm_submissions_total', help: 'Submissions admitted (farm submit, the Nix door, farm retry).', registers });
    this.uploaded = new Counter({ name: 'farm_upload_bytes_total', help: 'NAR bytes received for the farm store: from agents (AddPath under a lease, outputs carried by results) or clients (AddPath without a lease).', labelNames: ['source'], registers });
    for (const source of ['agent', 'client']) this.uploaded.inc({ source }, 0);
    this.downloaded = new Counter({ name: 'farm_download_bytes_total', help: 'NAR bytes sent: GetNar streams (grpc) or input NARs carried inline by assignments (inline).', labelNames: ['via'], registers });
    for (const via of ['grpc', 'inline']) this.downloaded.inc({ via }, 0);
    this.grpcErrors = new Counter({ name: 'farm_grpc_errors_total', help: 'gRPC calls that ended in an error, by method and farm error code.', labelNames: ['method', 'code'], registers });
    this.natsErrors = new Counter({ name: 'farm_nats_errors_total', help: 'NATS failures, by operation (agent requests answered with an error, replies that could not be sent, results refused or retried, connection trouble).', labelNames: ['operation'], registers });

    const jobs: Gauge<'state'> = new Gauge({ name: 'farm_jobs', help: "This run's jobs by state.", labelNames: ['state'], registers, collect: (): void => this.collectJobs(jobs) });
    const queue: Gauge<'system' | 'features'> = new Gauge({ name: 'farm_queue_depth', help: 'Ready jobs waiting for an agent, per routing bucket (system, required features).', labelNames: ['system', 'features'], registers, collect: (): void => this.collectQueue(queue) });
    const agents: Gauge = new Gauge({ name: 'farm_agents', help: 'Connected agents.', registers, collect: (): void => agents.set(this.agents().length) });
    const used: Gauge<'agent'> = new Gauge({ name: 'farm_slots_used', help: "Build slots in use per agent (the coordinator's count of its leases).", labelNames: ['agent'], registers, collect: (): void => this.collectSlots(used, free) });
    const free: Gauge<'agent'> = new Gauge({ name: 'farm_slots_free', help: 'Free build slots per agent (max jobs - leases, at least 0).', labelNames: ['agent'], registers });
    const storePaths: Gauge = new Gauge({ name: 'farm_store_paths', help: 'Valid paths in the farm store.', registers, collect: (): void => storePaths.set(this.deps.storeUsage().paths) });
    const storeBytes: Gauge = new Gauge({ name: 'farm_store_nar_bytes', help: 'NAR bytes of the valid paths in the farm store (each path counted, even where paths share one NAR).', registers, collect: (): void => storeBytes.set(this.deps.storeUsage().narBytes) });
    if (deps.processMetrics !== false) collectDefaultMetrics({ register: this.registry });

    this.lifecycle = new JobLifecycle({
      assigned: (drvPath, waitMs) => {
        this.dispatch.observe(waitMs / 1000);
        this.queueWait.observe({ ...bucketLabels(this.deps.routingOf, drvPath) }, waitMs / 1000);
      },
      retried: () => this.retries.inc(),
      leaseLost: (cause) => this.leaseLosses.inc({ cause }),
    });
    this.submissions = new NewSubmissions(
      deps.submissionRow,
      (row) => {
        this.submitted.inc();
        this.dedupHits.inc({ kind: 'already-valid' }, row.alreadyValid);
        this.dedupHits.inc({ kind: 'shared' }, row.shared);
      },
      deps.clock.now(),
    );
  }

  /** Starts observing the service's events (jobs it already has are taken as they are now). */
  attach(): this {
    this.lifecycle.seed(this.deps.service.jobRows());
    this.stops.push(
      this.deps.service.onSchedulerEvents((events) => {
        this.lifecycle.observe(events);
        this.submissions.observe(events);
      }),
    );
    return this;
  }

  /** Counts the connection's disconnects and errors (its own status iterator; nats.js allows several). */
  watchNats(nc: NatsConnection): this {
    void (async () => {
      for await (const s of nc.status()) {
        if (s.type === 'disconnect' || s.type === 'error') this.natsError(`connection-${s.type}`);
      }
    })().catch(() => undefined);
    return this;
  }

  close(): void {
    for (const stop of this.stops.splice(0)) stop();
  }

  /** The exposition text (Prometheus text format 0.0.4). */
  metrics(): Promise<string> {
    return this.registry.metrics();
  }

  // ---------------------------------------------------------------- CoordinatorObserver

  grpcError(method: string, code: string): void {
    this.grpcErrors.inc({ method, code });
  }

  natsError(operation: string): void {
    this.natsErrors.inc({ operation });
  }

  bytesReceived(source: UploadSource, bytes: number): void {
    if (bytes > 0) this.uploaded.inc({ source }, bytes);
  }

  bytesSent(via: DownloadVia, bytes: number): void {
    if (bytes > 0) this.downloaded.inc({ via }, bytes);
  }

  resultApplied(result: BuildResult__Output, outcome: ApplyResultOutcome): void {
    // A redelivered result changed nothing: neither a build nor bytes received again.
    if (outcome.accepted && outcome.reason === 'already applied') return;
    this.bytesReceived('agent', inlineNarBytes(result));
    if (!outcome.accepted) {
      this.natsError('result-refused');
      return;
    }
    const label = outcomeLabel(result.status);
    this.builds.inc({ outcome: label });
    const ms = Number(result.stopMs) - Number(result.startMs);
    if (Number.isFinite(ms) && ms >= 0 && Number(result.startMs) > 0) this.buildDuration.observe({ outcome: label }, ms / 1000);
  }

  // ---------------------------------------------------------------- scrape-time views

  private collectJobs(gauge: Gauge<'state'>): void {
    const counts = new Map<string, number>(JOB_STATES.map((s) => [s, 0]));
    for (const j of this.deps.service.jobRows()) counts.set(j.status, (counts.get(j.status) ?? 0) + 1);
    gauge.reset();
    for (const [state, n] of counts) gauge.set({ state }, n);
  }

  private collectQueue(gauge: Gauge<'system' | 'features'>): void {
    const depth = new Map<string, { labels: BucketLabels; n: number }>();
    for (const j of this.deps.service.jobRows()) {
      if (j.status !== 'ready') continue;
      const labels = bucketLabels(this.deps.routingOf, j.drvPath);
      const key = `${labels.system}\0${labels.features}`;
      const entry = depth.get(key);
      if (entry === undefined) depth.set(key, { labels, n: 1 });
      else entry.n++;
    }
    // Buckets that emptied keep a 0 until the next scrape, then disappear (reset).
    gauge.reset();
    for (const { labels, n } of depth.values()) gauge.set({ ...labels }, n);
  }

  private collectSlots(used: Gauge<'agent'>, free: Gauge<'agent'>): void {
    used.reset();
    free.reset();
    for (const a of this.agents()) {
      const agent = a.agentId ?? '';
      const running = a.running ?? 0;
      used.set({ agent }, running);
      free.set({ agent }, Math.max(0, (a.capabilities?.maxJobs ?? 0) - running));
    }
  }

  private agents(): NonNullable<ListAgentsResponse['agents']> {
    try {
      return this.deps.service.listAgents().agents ?? [];
    } catch {
      return []; // the service is closing
    }
  }
}
