/**
 * Server spans for the gRPC calls of traced clients: the call's metadata carries the caller's
 * W3C trace context (`farm submit`'s spans, an agent's `fetch inputs` / `upload outputs`); the
 * handler then runs inside a SERVER span `farm.v1.Coordinator/<Method>` that is its child, so
 * what the handler does (the submission's `admission`, …) joins the caller's trace. Calls without
 * a trace context (or with tracing off) run as they are: no root span per untraced call.
 */
import { ATTR, extractFromMetadata, FARM_GRPC_SERVICE, hasSpan, otelContext, SpanKind, withSpan, type MetadataLike } from '@farm/common';

export function serverSpan<T>(rpc: string, metadata: MetadataLike, fn: () => Promise<T>): Promise<T> {
  const parent = extractFromMetadata(metadata, otelContext.active());
  if (!hasSpan(parent)) return fn();
  return withSpan(`${FARM_GRPC_SERVICE}/${rpc}`, { [ATTR.rpcSystem]: 'grpc', [ATTR.rpcService]: FARM_GRPC_SERVICE, [ATTR.rpcMethod]: rpc }, () => fn(), { parent, kind: SpanKind.SERVER });
}
