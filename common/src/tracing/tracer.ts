/**
 * The farm's tracer and span helpers, on @opentelemetry/api alone: when no SDK is registered
 * (tracing off, the default) every call here is the API's no-op and costs a few property reads.
 * Only the binaries' entry points register an SDK (cli/src/telemetry/).
 *
 * Callers that would build attribute values (string formatting, sums) check `recording(span)`
 * first, so a non-recording span costs nothing beyond its creation.
 */
import { context, propagation, ROOT_CONTEXT, SpanKind, SpanStatusCode, trace, type Attributes, type Context, type Span, type SpanOptions, type Tracer } from '@opentelemetry/api';

export { ROOT_CONTEXT, SpanKind, SpanStatusCode, context as otelContext, trace as otelTrace };
export type { Attributes, Context, Span, SpanOptions };

const TRACER_NAME = 'farm';

/** The farm's tracer (looked up per call: the SDK may be registered after a module loaded). */
export function farmTracer(): Tracer {
  return trace.getTracer(TRACER_NAME);
}

/** True when the span records (an SDK is on and sampled it): only then are attributes worth building. */
export function recording(span: Span | undefined): span is Span {
  return span !== undefined && span.isRecording();
}

/** The active span if it records, else undefined. */
export function activeRecordingSpan(): Span | undefined {
  const span = trace.getActiveSpan();
  return span !== undefined && span.isRecording() ? span : undefined;
}

/** Marks the span failed: the exception as an event, status ERROR with its message, error.type. */
export function recordError(span: Span, e: unknown): void {
  if (!span.isRecording()) return;
  const err = e instanceof Error ? e : new Error(String(e));
  span.recordException(err);
  span.setStatus({ code: SpanStatusCode.ERROR, message: err.message });
  const code = (e as { code?: unknown } | null)?.code;
  span.setAttribute('error.type', typeof code === 'string' ? code : err.name);
}

/**
 * Runs `fn` inside a new span (active for everything `fn` awaits), ends it when `fn` settles,
 * and records a thrown error on it before rethrowing.
 */
export async function withSpan<T>(name: string, attributes: Attributes, fn: (span: Span) => Promise<T> | T, options: SpanOptions & { parent?: Context } = {}): Promise<T> {
  const { parent, ...spanOptions } = options;
  const parentContext = parent ?? context.active();
  const span = farmTracer().startSpan(name, { ...spanOptions, attributes }, parentContext);
  try {
    return await context.with(trace.setSpan(parentContext, span), () => fn(span));
  } catch (e) {
    recordError(span, e);
    throw e;
  } finally {
    span.end();
  }
}

/** The W3C `traceparent` of a span (or of the active one), through the registered propagator; undefined when not recording. */
export function traceparentOf(span: Span | undefined = trace.getActiveSpan()): string | undefined {
  if (span === undefined || !span.isRecording()) return undefined;
  const carrier: Record<string, string> = {};
  propagation.inject(trace.setSpan(context.active(), span), carrier);
  return carrier['traceparent'];
}

/** A context whose parent is the span a `traceparent` names (ROOT-based; unchanged context when absent or invalid). */
export function contextFromTraceparent(traceparent: string | undefined, base: Context = context.active()): Context {
  if (traceparent === undefined || traceparent === '') return base;
  return propagation.extract(base, { traceparent });
}

/** Whether `ctx` carries a (remote or local) span context: a call made in it is part of a trace. */
export function hasSpan(ctx: Context): boolean {
  const sc = trace.getSpanContext(ctx);
  return sc !== undefined && trace.isSpanContextValid(sc);
}
