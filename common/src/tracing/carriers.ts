/**
 * W3C trace context across the farm's two transports, through the registered propagator
 * (`traceparent` / `tracestate`; no-op when tracing is off):
 * - gRPC: the call's Metadata (structurally typed, so common needs no gRPC dependency);
 * - NATS: message headers (MsgHdrs). A message may carry several contexts — a WorkReply holds
 *   one per assignment — so a key suffix names which one: `traceparent-<jobId>`.
 */
import { context, propagation, type Context, type TextMapGetter, type TextMapSetter } from '@opentelemetry/api';

/** What the propagator needs of grpc-js Metadata. */
export interface MetadataLike {
  get(key: string): unknown[];
  set(key: string, value: string): void;
}

/** What the propagator needs of nats.js MsgHdrs. */
export interface HeadersLike {
  get(key: string): string;
  set(key: string, value: string): void;
  has(key: string): boolean;
}

const metadataSetter: TextMapSetter<MetadataLike> = {
  set: (carrier, key, value) => carrier.set(key, value),
};

const metadataGetter: TextMapGetter<MetadataLike> = {
  get: (carrier, key) => {
    const values = carrier.get(key);
    const first = values[0];
    return first === undefined ? undefined : String(first);
  },
  keys: () => ['traceparent', 'tracestate'],
};

export function injectIntoMetadata(metadata: MetadataLike, ctx: Context = context.active()): void {
  propagation.inject(ctx, metadata, metadataSetter);
}

export function extractFromMetadata(metadata: MetadataLike, base: Context = context.active()): Context {
  return propagation.extract(base, metadata, metadataGetter);
}

function headersSetter(suffix: string): TextMapSetter<HeadersLike> {
  return { set: (carrier, key, value) => carrier.set(suffix === '' ? key : `${key}-${suffix}`, value) };
}

function headersGetter(suffix: string): TextMapGetter<HeadersLike> {
  const name = (key: string): string => (suffix === '' ? key : `${key}-${suffix}`);
  return {
    get: (carrier, key) => (carrier.has(name(key)) ? carrier.get(name(key)) : undefined),
    keys: () => ['traceparent', 'tracestate'],
  };
}

/** Writes the context into NATS headers, under `traceparent` or `traceparent-<suffix>`. */
export function injectIntoHeaders(headers: HeadersLike, ctx: Context = context.active(), suffix = ''): void {
  propagation.inject(ctx, headers, headersSetter(suffix));
}

/** The context NATS headers carry (under `traceparent` or `traceparent-<suffix>`); `base` when none. */
export function extractFromHeaders(headers: HeadersLike | undefined, base: Context = context.active(), suffix = ''): Context {
  if (headers === undefined) return base;
  return propagation.extract(base, headers, headersGetter(suffix));
}
