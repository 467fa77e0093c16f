/**
 * A submission's link into the operator's tracing UI: the trace id of its W3C `traceparent`
 * (`00-<32 hex trace id>-<16 hex span id>-<2 hex flags>`, set by tracing on admission) put into
 * the configured template (`ops.traceUrl`, e.g. `http://jaeger:16686/trace/{traceId}`). No
 * template, no traceparent, a malformed one or the all-zero (invalid) trace id: no link.
 */

const TRACEPARENT = /^([0-9a-f]{2})-([0-9a-f]{32})-([0-9a-f]{16})-([0-9a-f]{2})$/;

/** The trace id of a W3C traceparent, or undefined when it is not one. */
export function traceIdOf(traceparent: string | undefined): string | undefined {
  if (traceparent === undefined) return undefined;
  const m = TRACEPARENT.exec(traceparent.trim());
  if (m === null || m[1] === 'ff') return undefined;
  const traceId = m[2]!;
  return /^0+$/.test(traceId) ? undefined : traceId;
}

/** `template` with every `{traceId}` replaced, or undefined (see above). */
export function traceLink(template: string | undefined, traceparent: string | undefined): string | undefined {
  if (template === undefined || template === '') return undefined;
  const traceId = traceIdOf(traceparent);
  return traceId === undefined ? undefined : template.replaceAll('{traceId}', traceId);
}
