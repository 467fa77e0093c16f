/**
 * Trace context in the coordinator's NATS messages (docs/architecture.md, subjects):
 * - a WorkReply carries, per assignment, the context of its `lease` span in the header
 *   `traceparent-<jobId>` (and `tracestate-<jobId>`): one reply may hold several assignments,
 *   each of its own submission's trace; the agent's `build` span is its child;
 * - a BuildResult arrives with `traceparent` of the agent's `build` span: `apply result` is its
 *   child.
 * Nothing is added when tracing is off (no lease span context) — the reply stays header-less.
 */
import { hasSpan, injectIntoHeaders, type Context } from '@farm/common';
import type { WorkReply } from '@farm/proto';
import { headers, type MsgHdrs } from '@nats-io/transport-node';

/** The context of a lease's span (JobSpans.leaseContext), or undefined when it is not traced. */
export type LeaseContextOf = (jobId: string, epoch: number, drvPath: string, agentId: string) => Context | undefined;

export function workReplyHeaders(reply: WorkReply, agentId: string, leaseContext: LeaseContextOf | undefined): MsgHdrs | undefined {
  if (leaseContext === undefined) return undefined;
  let h: MsgHdrs | undefined;
  for (const a of reply.assignments ?? []) {
    const jobId = a.lease?.jobId;
    if (jobId === undefined || jobId === '') continue;
    const ctx = leaseContext(jobId, Number(a.lease?.epoch ?? 0), a.drvPath ?? '', agentId);
    if (ctx === undefined || !hasSpan(ctx)) continue;
    h ??= headers();
    injectIntoHeaders(h, ctx, jobId);
  }
  return h;
}
