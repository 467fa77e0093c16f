/**
 * The spans of each job of a traced submission, built from the committed scheduler events
 * (FarmService.onSchedulerEvents), children of the `admission` span whose traceparent the
 * submission row keeps — so they join the submission's trace, also after a restart:
 * - `queue wait`: from the event that made the job ready to the one that leased it (explicit
 *   start and end times: the scheduler's own);
 * - `lease`: from the assignment to the event that ended the lease (result applied, expiry,
 *   cancel, agent lost); its context travels to the agent with the WorkReply (leaseContext),
 *   and the agent's `build` span is its child.
 * A job shared by several submissions joins the trace of the first that needs it.
 *
 * The WorkReply may leave before the commit of its 'running' events is published, so the lease
 * span is created by whichever comes first: leaseContext (now) or the event (its time).
 * Cost with tracing off: submissions carry no traceparent, so each event costs a map lookup.
 * Memory: one entry per ready or leased job of a traced submission, dropped when it ends.
 */
import { ATTR, contextFromTraceparent, farmTracer, hasSpan, otelTrace, ROOT_CONTEXT, SpanStatusCode, type Context, type Span } from '@farm/common';
import type { JobEvent, SchedulerEvent } from '../../core/scheduler-types.js';

export interface JobSpansDeps {
  /** The traceparent the submission's row keeps (FarmService.submissionTraceparent). */
  submissionTraceparent(submissionId: string): string | undefined;
  /** The submissions that need the job now (FarmService.jobSubmissions). */
  jobSubmissions(jobId: string): readonly string[];
  /** Wall-clock ms (the scheduler's event times are the same clock). */
  now(): number;
}

interface OpenLease {
  readonly epoch: number;
  readonly span: Span;
  readonly context: Context;
}

const MAX_REASON = 500;

export class JobSpans {
  /** jobId → when it became ready, and the parent context of its spans. */
  private readonly ready = new Map<string, { at: number; parent: Context }>();
  private readonly leases = new Map<string, OpenLease>();
  /** submission id → the context of its admission span (null: not traced). */
  private readonly parents = new Map<string, Context | null>();

  constructor(private readonly deps: JobSpansDeps) {}

  /** The listener for FarmService.onSchedulerEvents. */
  readonly onEvents = (events: readonly SchedulerEvent[]): void => {
    for (const ev of events) {
      if (ev.type === 'submission-done') {
        this.parents.delete(ev.submissionId);
        continue;
      }
      if (ev.status === 'already-valid' || ev.status === 'waiting') continue;
      if (ev.status === 'running') {
        this.openLease(ev.jobId, ev.epoch, ev.drvPath, ev.agentId, ev.at, ev.submissions);
        continue;
      }
      this.endLease(ev);
      if (ev.status === 'ready') {
        const parent = this.parentOf(ev.submissions);
        if (parent !== undefined) this.ready.set(ev.jobId, { at: ev.at, parent });
      } else {
        this.ready.delete(ev.jobId);
      }
    }
  };

  /**
   * The context of the lease span of (jobId, epoch), opening the span now if its event has not
   * been seen yet; undefined when the job belongs to no traced submission.
   */
  leaseContext(jobId: string, epoch: number, drvPath: string, agentId: string): Context | undefined {
    return this.openLease(jobId, epoch, drvPath, agentId, this.deps.now(), undefined);
  }

  /** Ends every open span (the coordinator is closing). */
  close(): void {
    const now = this.deps.now();
    for (const [jobId, lease] of this.leases) {
      lease.span.setAttribute(ATTR.outcome, 'coordinator-stopped');
      lease.span.end(now);
      this.leases.delete(jobId);
    }
    this.ready.clear();
    this.parents.clear();
  }

  private openLease(jobId: string, epoch: number, drvPath: string, agentId: string | undefined, at: number, submissions: readonly string[] | undefined): Context | undefined {
    const open = this.leases.get(jobId);
    if (open !== undefined) {
      if (open.epoch === epoch) return open.context;
      open.span.setAttribute(ATTR.outcome, 'superseded');
      open.span.end(at);
      this.leases.delete(jobId);
    }
    const queued = this.ready.get(jobId);
    this.ready.delete(jobId);
    const parent = queued?.parent ?? this.parentOf(submissions ?? this.deps.jobSubmissions(jobId));
    if (parent === undefined) return undefined;
    const tracer = farmTracer();
    const attributes = { [ATTR.drvPath]: drvPath, [ATTR.jobId]: jobId, [ATTR.epoch]: epoch, ...(agentId !== undefined && agentId !== '' ? { [ATTR.agent]: agentId } : {}) };
    if (queued !== undefined) {
      tracer.startSpan('queue wait', { startTime: Math.min(queued.at, at), attributes: { [ATTR.drvPath]: drvPath, [ATTR.jobId]: jobId } }, parent).end(at);
    }
    const span = tracer.startSpan('lease', { startTime: at, attributes }, parent);
    const context = otelTrace.setSpan(parent, span);
    this.leases.set(jobId, { epoch, span, context });
    return context;
  }

  private endLease(ev: JobEvent): void {
    const open = this.leases.get(ev.jobId);
    if (open === undefined) return;
    this.leases.delete(ev.jobId);
    open.span.setAttribute(ATTR.outcome, ev.status);
    if (ev.status === 'failed' || ev.status === 'cancelled') {
      open.span.setStatus({ code: SpanStatusCode.ERROR, message: (ev.reason ?? ev.status).slice(0, MAX_REASON) });
    }
    open.span.end(ev.at);
  }

  /** The admission context of the first traced submission among `submissions`. */
  private parentOf(submissions: readonly string[]): Context | undefined {
    for (const id of submissions) {
      let parent = this.parents.get(id);
      if (parent === undefined) {
        const ctx = contextFromTraceparent(this.deps.submissionTraceparent(id), ROOT_CONTEXT);
        parent = hasSpan(ctx) ? ctx : null;
        this.parents.set(id, parent);
      }
      if (parent !== null) return parent;
    }
    return undefined;
  }
}
