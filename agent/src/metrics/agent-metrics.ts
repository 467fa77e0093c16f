/**
 * An agent's Prometheus metrics, in their own registry: builds by outcome and their duration,
 * build slots, NAR bytes fetched (inputs) and uploaded (outputs), NATS failures. Fed by the
 * wrappers in instrument.ts (the attempt's store, uploads and publishes) and read from the
 * session at scrape time (slots). Every series carries the agent's name (`agent` label), so the
 * same metric scraped from several agents sums without relabelling.
 * Names: `farm_agent_` prefix, base units, counters end in `_total` (docs/observability.md).
 */
import { collectDefaultMetrics, Counter, Gauge, Histogram, Registry } from 'prom-client';

/** Build outcomes as results report them (`BUILD_STATUS_TIMED_OUT` → `timed-out`). */
export const BUILD_OUTCOMES = ['built', 'failed', 'timed-out', 'silent-too-long', 'output-missing', 'log-limit', 'sandbox-error', 'transfer-error', 'cancelled'] as const;

const BUILD_DURATION_BUCKETS = [0.1, 0.5, 1, 2.5, 5, 10, 30, 60, 300, 900, 1800, 3600, 7200];

export function outcomeLabel(status: string): string {
  return status.replace(/^BUILD_STATUS_/, '').toLowerCase().replaceAll('_', '-');
}

export interface SlotsView {
  /** Builds whose sandbox is running. */
  readonly building: number;
  /** Free build slots (what the next work request asks for). */
  readonly free: number;
  readonly maxJobs: number;
}

export interface AgentMetricsOptions {
  readonly agent: string;
  /** Node.js process metrics (process_*, nodejs_*); default true. */
  readonly processMetrics?: boolean;
}

export class AgentMetrics {
  readonly registry = new Registry();
  private readonly builds: Counter<'outcome'>;
  private readonly duration: Histogram<'outcome'>;
  private readonly uploaded: Counter<'via'>;
  private readonly downloaded: Counter;
  private readonly natsErrors: Counter<'operation'>;
  private slots: () => SlotsView | undefined = () => undefined;

  constructor(options: AgentMetricsOptions) {
    const registers = [this.registry];
    this.registry.setDefaultLabels({ agent: options.agent });
    this.builds = new Counter({ name: 'farm_agent_builds_total', help: 'Build attempts this agent reported, by outcome (built, failed, timed-out, …).', labelNames: ['outcome'], registers });
    for (const outcome of BUILD_OUTCOMES) this.builds.inc({ outcome }, 0);
    this.duration = new Histogram({ name: 'farm_agent_build_duration_seconds', help: 'Duration of the reported attempts (assignment to result: fetch, build, upload), by outcome.', labelNames: ['outcome'], buckets: BUILD_DURATION_BUCKETS, registers });
    this.uploaded = new Counter({ name: 'farm_agent_upload_bytes_total', help: 'Output NAR bytes sent to the coordinator: AddPath uploads (grpc) or carried by the result (inline).', labelNames: ['via'], registers });
    for (const via of ['grpc', 'inline']) this.uploaded.inc({ via }, 0);
    this.downloaded = new Counter({ name: 'farm_agent_download_bytes_total', help: 'Input NAR bytes fetched into the local store (GetNar, or inline in the assignment).', registers });
    this.natsErrors = new Counter({ name: 'farm_agent_nats_errors_total', help: 'NATS failures, by operation (register, heartbeat, work-request, publish-log, publish-result, connection-*).', labelNames: ['operation'], registers });
    const used: Gauge = new Gauge({ name: 'farm_agent_slots_used', help: 'Build slots in use (sandboxes running).', registers, collect: (): void => this.collectSlots(used, free, max) });
    const free: Gauge = new Gauge({ name: 'farm_agent_slots_free', help: 'Free build slots.', registers });
    const max: Gauge = new Gauge({ name: 'farm_agent_max_jobs', help: 'Build slots in all (maxJobs).', registers });
    if (options.processMetrics !== false) collectDefaultMetrics({ register: this.registry });
  }

  /** Where the slots are read from at scrape time (the session, once it runs). */
  readSlotsFrom(slots: () => SlotsView | undefined): void {
    this.slots = slots;
  }

  buildReported(status: string, durationMs: number): void {
    const outcome = outcomeLabel(status);
    this.builds.inc({ outcome });
    if (Number.isFinite(durationMs) && durationMs >= 0) this.duration.observe({ outcome }, durationMs / 1000);
  }

  bytesUploaded(via: 'grpc' | 'inline', bytes: number): void {
    if (bytes > 0) this.uploaded.inc({ via }, bytes);
  }

  bytesDownloaded(bytes: number): void {
    if (bytes > 0) this.downloaded.inc(bytes);
  }

  natsError(operation: string): void {
    this.natsErrors.inc({ operation });
  }

  metrics(): Promise<string> {
    return this.registry.metrics();
  }

  private collectSlots(used: Gauge, free: Gauge, max: Gauge): void {
    const s = this.slots();
    used.set(s?.building ?? 0);
    free.set(s?.free ?? 0);
    max.set(s?.maxJobs ?? 0);
  }
}
