/**
 * The OTLP trace service, loaded from the vendored .proto files (testkit/otlp-proto, copied
 * from open-telemetry/opentelemetry-proto) with @grpc/proto-loader: one definition serves the
 * gRPC receiver and decodes the HTTP receiver's bodies (its requestDeserialize). Ids and other
 * bytes come back as Buffers; 64-bit integers as decimal strings.
 */
import { fileURLToPath } from 'node:url';
import { loadSync, type MethodDefinition, type PackageDefinition } from '@grpc/proto-loader';

export const OTLP_PROTO_ROOT: string = fileURLToPath(new URL('../../../otlp-proto/', import.meta.url));
export const TRACE_SERVICE = 'opentelemetry.proto.collector.trace.v1.TraceService';

/** ExportTraceServiceRequest as proto-loader decodes it (only the fields the receiver reads). */
export interface ExportRequest {
  readonly resourceSpans: readonly {
    readonly resource?: { readonly attributes: readonly KeyValue[] } | null;
    readonly scopeSpans: readonly {
      readonly scope?: { readonly name: string } | null;
      readonly spans: readonly RawSpan[];
    }[];
  }[];
}

export interface KeyValue {
  readonly key: string;
  readonly value?: AnyValue | null;
}

export interface AnyValue {
  readonly value?: string;
  readonly stringValue?: string;
  readonly boolValue?: boolean;
  readonly intValue?: string;
  readonly doubleValue?: number;
  readonly bytesValue?: Buffer;
  readonly arrayValue?: { readonly values: readonly AnyValue[] };
  readonly kvlistValue?: { readonly values: readonly KeyValue[] };
}

export interface RawSpan {
  readonly traceId: Buffer;
  readonly spanId: Buffer;
  readonly parentSpanId: Buffer;
  readonly name: string;
  readonly kind: string;
  readonly startTimeUnixNano: string;
  readonly endTimeUnixNano: string;
  readonly attributes: readonly KeyValue[];
  readonly status?: { readonly code: string; readonly message: string } | null;
  readonly events: readonly { readonly name: string; readonly attributes: readonly KeyValue[] }[];
}

let cached: PackageDefinition | undefined;

export function otlpDefinition(): PackageDefinition {
  cached ??= loadSync('opentelemetry/proto/collector/trace/v1/trace_service.proto', {
    includeDirs: [OTLP_PROTO_ROOT],
    keepCase: false,
    longs: String,
    enums: String,
    defaults: true,
    oneofs: true,
  });
  return cached;
}

export function exportMethod(): MethodDefinition<ExportRequest, Record<string, never>> {
  const service = otlpDefinition()[TRACE_SERVICE] as unknown as Record<string, MethodDefinition<ExportRequest, Record<string, never>>>;
  return service['Export']!;
}
