/**
 * An in-process OTLP trace receiver for tests (there is no trace backend on these machines):
 * - OTLP/HTTP: `POST /v1/traces` with `application/x-protobuf` bodies, answered with an empty
 *   ExportTraceServiceResponse (anything else: 404 / 405 / 415);
 * - OTLP/gRPC: `opentelemetry.proto.collector.trace.v1.TraceService/Export`.
 * Every span received is kept, flattened with its resource's service.name and its attributes
 * as plain values, ids as lowercase hex ('' for a root's parent). Point a process at it with
 * `otelEnv(receiver, 'http/protobuf' | 'grpc')`.
 */
import { createServer, type IncomingMessage } from 'node:http';
import type { AddressInfo } from 'node:net';
import { Server as GrpcServer, ServerCredentials, type sendUnaryData, type ServerUnaryCall, type UntypedServiceImplementation } from '@grpc/grpc-js';
import { exportMethod, otlpDefinition, TRACE_SERVICE, type AnyValue, type ExportRequest, type KeyValue } from './otlp-protos.js';

export type AttributeValue = string | number | boolean | null | readonly AttributeValue[] | { readonly [key: string]: AttributeValue };

export interface ReceivedSpan {
  readonly traceId: string;
  readonly spanId: string;
  /** '' for a root span. */
  readonly parentSpanId: string;
  readonly name: string;
  /** SPAN_KIND_SERVER, SPAN_KIND_INTERNAL, … */
  readonly kind: string;
  readonly serviceName: string;
  readonly scope: string;
  readonly startNs: bigint;
  readonly endNs: bigint;
  readonly attributes: Readonly<Record<string, AttributeValue>>;
  readonly resource: Readonly<Record<string, AttributeValue>>;
  /** STATUS_CODE_UNSET / _OK / _ERROR. */
  readonly status: { readonly code: string; readonly message: string };
  readonly events: readonly string[];
  /** Which transport delivered it. */
  readonly via: 'http' | 'grpc';
}

export interface OtlpReceiver {
  /** Base URL for OTEL_EXPORTER_OTLP_ENDPOINT with http/protobuf (`/v1/traces` is appended by exporters). */
  readonly httpUrl: string;
  /** URL for OTEL_EXPORTER_OTLP_ENDPOINT with grpc. */
  readonly grpcUrl: string;
  spans(): ReceivedSpan[];
  /** Export requests received (both transports), including ones that held no span. */
  readonly requests: number;
  /** Resolves once `predicate` holds for the spans received (polled on each request and every 100 ms). */
  waitFor(predicate: (spans: readonly ReceivedSpan[]) => boolean, timeoutMs: number): Promise<ReceivedSpan[]>;
  close(): Promise<void>;
}

export async function startOtlpReceiver(): Promise<OtlpReceiver> {
  const received: ReceivedSpan[] = [];
  let requests = 0;
  const method = exportMethod();
  const record = (req: ExportRequest, via: 'http' | 'grpc'): void => {
    requests++;
    received.push(...flatten(req, via));
  };

  const http = createServer((req, res) => {
    const reply = (status: number, body: string | Buffer, type = 'text/plain'): void => {
      res.writeHead(status, { 'content-type': type }).end(body);
    };
    if (req.url !== '/v1/traces') return reply(404, 'not found');
    if (req.method !== 'POST') return reply(405, 'POST only');
    if (!(req.headers['content-type'] ?? '').startsWith('application/x-protobuf')) return reply(415, 'application/x-protobuf only');
    readBody(req).then(
      (body) => {
        try {
          record(method.requestDeserialize(body), 'http');
        } catch (e) {
          return reply(400, `undecodable ExportTraceServiceRequest: ${(e as Error).message}`);
        }
        reply(200, method.responseSerialize({}), 'application/x-protobuf');
      },
      () => reply(400, 'body not read'),
    );
  });
  await new Promise<void>((resolve) => http.listen(0, '127.0.0.1', resolve));
  const httpPort = (http.address() as AddressInfo).port;

  const grpc = new GrpcServer();
  const service = otlpDefinition()[TRACE_SERVICE] as unknown as Parameters<GrpcServer['addService']>[0];
  const impl: UntypedServiceImplementation = {
    Export: (call: ServerUnaryCall<ExportRequest, unknown>, callback: sendUnaryData<Record<string, never>>) => {
      record(call.request, 'grpc');
      callback(null, {});
    },
  };
  grpc.addService(service, impl);
  const grpcPort = await new Promise<number>((resolve, reject) => grpc.bindAsync('127.0.0.1:0', ServerCredentials.createInsecure(), (e, p) => (e !== null ? reject(e) : resolve(p))));

  return {
    httpUrl: `http://127.0.0.1:${httpPort}`,
    grpcUrl: `http://127.0.0.1:${grpcPort}`,
    spans: () => [...received],
    get requests() {
      return requests;
    },
    waitFor: async (predicate, timeoutMs) => {
      const until = Date.now() + timeoutMs;
      while (!predicate(received)) {
        if (Date.now() > until) throw new Error(`OTLP receiver: condition not met within ${timeoutMs} ms (${received.length} spans: ${[...new Set(received.map((s) => `${s.serviceName}/${s.name}`))].join(', ')})`);
        await new Promise((r) => setTimeout(r, 100));
      }
      return [...received];
    },
    close: async () => {
      await new Promise<void>((resolve) => http.close(() => resolve()));
      http.closeAllConnections();
      await new Promise<void>((resolve) => grpc.tryShutdown(() => resolve()));
    },
  };
}

/** The OTEL_* environment that makes a farm process export to the receiver (short batch delay). */
export function otelEnv(receiver: OtlpReceiver, protocol: 'http/protobuf' | 'grpc' = 'http/protobuf'): Record<string, string> {
  return {
    OTEL_EXPORTER_OTLP_ENDPOINT: protocol === 'grpc' ? receiver.grpcUrl : receiver.httpUrl,
    OTEL_EXPORTER_OTLP_PROTOCOL: protocol,
    OTEL_BSP_SCHEDULE_DELAY: '200',
  };
}

function readBody(req: IncomingMessage): Promise<Buffer> {
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => resolve(Buffer.concat(chunks)));
    req.on('error', reject);
  });
}

function flatten(req: ExportRequest, via: 'http' | 'grpc'): ReceivedSpan[] {
  const out: ReceivedSpan[] = [];
  for (const rs of req.resourceSpans ?? []) {
    const resource = attributesOf(rs.resource?.attributes ?? []);
    const serviceName = typeof resource['service.name'] === 'string' ? resource['service.name'] : '';
    for (const ss of rs.scopeSpans ?? []) {
      for (const s of ss.spans ?? []) {
        out.push({
          traceId: hex(s.traceId),
          spanId: hex(s.spanId),
          parentSpanId: hex(s.parentSpanId),
          name: s.name,
          kind: s.kind,
          serviceName,
          scope: ss.scope?.name ?? '',
          startNs: BigInt(s.startTimeUnixNano || '0'),
          endNs: BigInt(s.endTimeUnixNano || '0'),
          attributes: attributesOf(s.attributes ?? []),
          resource,
          status: { code: s.status?.code ?? 'STATUS_CODE_UNSET', message: s.status?.message ?? '' },
          events: (s.events ?? []).map((e) => e.name),
          via,
        });
      }
    }
  }
  return out;
}

function hex(b: Buffer | undefined): string {
  return b === undefined ? '' : Buffer.from(b).toString('hex');
}

function attributesOf(kvs: readonly KeyValue[]): Record<string, AttributeValue> {
  const out: Record<string, AttributeValue> = {};
  for (const kv of kvs) out[kv.key] = valueOf(kv.value);
  return out;
}

function valueOf(v: AnyValue | null | undefined): AttributeValue {
  if (v === null || v === undefined) return null;
  switch (v.value) {
    case 'stringValue':
      return v.stringValue ?? '';
    case 'boolValue':
      return v.boolValue ?? false;
    case 'intValue':
      return Number(v.intValue ?? 0);
    case 'doubleValue':
      return v.doubleValue ?? 0;
    case 'bytesValue':
      return hex(v.bytesValue);
    case 'arrayValue':
      return (v.arrayValue?.values ?? []).map(valueOf);
    case 'kvlistValue':
      return attributesOf(v.kvlistValue?.values ?? []);
    default:
      return null;
  }
}
