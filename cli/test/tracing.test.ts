/**
 * The tracing plumbing with the real SDK pieces the entry point registers (W3C propagator,
 * AsyncLocalStorage context manager, a tracer provider — here with an in-memory exporter):
 * - the propagation helpers of @farm/common round-trip a span context through grpc-js Metadata
 *   and through NATS headers (one context per suffix, as a WorkReply carries one per lease);
 * - withSpan nests, records a thrown error (status ERROR, exception event) and rethrows;
 * - the daemons' logger adds trace_id/span_id inside a recording span only;
 * - otel-env.ts: when the standard variables turn tracing on, with which protocol and name.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { Writable } from 'node:stream';
import { context, propagation, trace } from '@opentelemetry/api';
import { AsyncLocalStorageContextManager } from '@opentelemetry/context-async-hooks';
import { W3CTraceContextPropagator } from '@opentelemetry/core';
import { InMemorySpanExporter, SimpleSpanProcessor, TracerProvider } from '@opentelemetry/sdk-trace';
import { headers } from '@nats-io/transport-node';
import {
  contextFromTraceparent,
  createLogger,
  extractFromHeaders,
  extractFromMetadata,
  injectIntoHeaders,
  injectIntoMetadata,
  otelTrace,
  ROOT_CONTEXT,
  traceparentOf,
  withSpan,
} from '@farm/common';
import { Metadata } from '@farm/proto';
import { tracingSettings } from '../src/telemetry/otel-env.js';

const exporter = new InMemorySpanExporter();
context.setGlobalContextManager(new AsyncLocalStorageContextManager().enable());
propagation.setGlobalPropagator(new W3CTraceContextPropagator());
trace.setGlobalTracerProvider(new TracerProvider({ spanProcessors: [new SimpleSpanProcessor({ exporter })] }));

test('a span context survives gRPC metadata: inject on the client, extract on the server', async () => {
  await withSpan('client', {}, async (span) => {
    const md = new Metadata();
    injectIntoMetadata(md);
    assert.match(String(md.get('traceparent')[0]), /^00-[0-9a-f]{32}-[0-9a-f]{16}-01$/);
    const sc = otelTrace.getSpanContext(extractFromMetadata(md, ROOT_CONTEXT));
    assert.equal(sc?.traceId, span.spanContext().traceId);
    assert.equal(sc?.spanId, span.spanContext().spanId);
    assert.equal(sc?.isRemote, true);
  });
  // Nothing to carry outside a span: no header, and extraction leaves the context alone.
  const md = new Metadata();
  injectIntoMetadata(md, ROOT_CONTEXT);
  assert.deepEqual(md.get('traceparent'), []);
  assert.equal(otelTrace.getSpanContext(extractFromMetadata(md, ROOT_CONTEXT)), undefined);
});

test('NATS headers carry one context per suffix (traceparent-<jobId>), or one plain traceparent', async () => {
  const h = headers();
  const a = await withSpan('lease a', {}, async (s) => (injectIntoHeaders(h, context.active(), 'jobA'), s.spanContext()));
  const b = await withSpan('lease b', {}, async (s) => (injectIntoHeaders(h, context.active(), 'jobB'), s.spanContext()));
  assert.ok(h.has('traceparent-jobA') && h.has('traceparent-jobB') && !h.has('traceparent'));
  assert.equal(otelTrace.getSpanContext(extractFromHeaders(h, ROOT_CONTEXT, 'jobA'))?.spanId, a.spanId);
  assert.equal(otelTrace.getSpanContext(extractFromHeaders(h, ROOT_CONTEXT, 'jobB'))?.spanId, b.spanId);
  assert.equal(otelTrace.getSpanContext(extractFromHeaders(h, ROOT_CONTEXT, 'jobC')), undefined);
  assert.equal(otelTrace.getSpanContext(extractFromHeaders(undefined, ROOT_CONTEXT)), undefined);
  const plain = headers();
  const c = await withSpan('build', {}, async (s) => (injectIntoHeaders(plain), s.spanContext()));
  assert.equal(otelTrace.getSpanContext(extractFromHeaders(plain, ROOT_CONTEXT))?.spanId, c.spanId);
});

test('a traceparent string (the submission row) leads back to its span', async () => {
  const { tp, sc } = await withSpan('admission', {}, async (s) => ({ tp: traceparentOf(s), sc: s.spanContext() }));
  assert.equal(tp, `00-${sc.traceId}-${sc.spanId}-01`);
  const restored = otelTrace.getSpanContext(contextFromTraceparent(tp, ROOT_CONTEXT));
  assert.equal(restored?.spanId, sc.spanId);
  assert.equal(contextFromTraceparent(undefined, ROOT_CONTEXT), ROOT_CONTEXT);
});

test('withSpan nests spans and records a thrown error before rethrowing it', async () => {
  exporter.reset();
  await assert.rejects(
    withSpan('outer', { 'farm.jobs': 2 }, () => withSpan('inner', {}, async () => Promise.reject(new Error('boom')))),
    /boom/,
  );
  const spans = exporter.getFinishedSpans();
  const outer = spans.find((s) => s.name === 'outer')!;
  const inner = spans.find((s) => s.name === 'inner')!;
  assert.equal(inner.parentSpanContext?.spanId, outer.spanContext().spanId);
  assert.equal(inner.status.code, 2); // SpanStatusCode.ERROR
  assert.equal(inner.status.message, 'boom');
  assert.ok(inner.events.some((e) => e.name === 'exception'));
  assert.equal(outer.attributes['farm.jobs'], 2);
});

test('log lines carry trace_id and span_id inside a recording span, and only there', async () => {
  const lines: Record<string, unknown>[] = [];
  const sink = new Writable({ write: (chunk: Buffer, _e, cb) => (lines.push(JSON.parse(chunk.toString()) as Record<string, unknown>), cb()) });
  const logger = createLogger({ name: 't' }, sink);
  logger.info('outside');
  const sc = await withSpan('s', {}, async (s) => (logger.child({ c: 1 }).info('inside'), s.spanContext()));
  assert.equal(lines[0]!['trace_id'], undefined);
  assert.equal(lines[1]!['trace_id'], sc.traceId);
  assert.equal(lines[1]!['span_id'], sc.spanId);
});

test('otel-env: the standard variables decide whether, how and as whom to export', () => {
  const ep = { OTEL_EXPORTER_OTLP_ENDPOINT: 'http://collector:4318' };
  assert.equal(tracingSettings({}, ['submit']), undefined, 'no endpoint: off');
  assert.equal(tracingSettings({ ...ep, OTEL_SDK_DISABLED: 'true' }, ['submit']), undefined);
  assert.equal(tracingSettings({ ...ep, OTEL_TRACES_EXPORTER: 'none' }, ['submit']), undefined);
  assert.deepEqual(tracingSettings(ep, ['submit']), { serviceName: 'farm-cli', protocol: 'http/protobuf', batch: {} });
  assert.equal(tracingSettings({ OTEL_EXPORTER_OTLP_TRACES_ENDPOINT: 'http://c:4317', OTEL_EXPORTER_OTLP_PROTOCOL: 'grpc' }, ['agent'])?.protocol, 'grpc');
  assert.equal(tracingSettings({ ...ep, OTEL_EXPORTER_OTLP_PROTOCOL: 'grpc', OTEL_EXPORTER_OTLP_TRACES_PROTOCOL: 'http/protobuf' }, [])?.protocol, 'http/protobuf', 'the traces-specific variable wins');
  assert.equal(tracingSettings(ep, ['up'])?.serviceName, 'farm-coordinator');
  assert.equal(tracingSettings(ep, ['coordinator'])?.serviceName, 'farm-coordinator');
  assert.equal(tracingSettings(ep, ['agent'])?.serviceName, 'farm-agent');
  assert.equal(tracingSettings({ ...ep, OTEL_SERVICE_NAME: 'mine' }, ['agent'])?.serviceName, 'mine');
  assert.deepEqual(tracingSettings({ ...ep, OTEL_BSP_SCHEDULE_DELAY: '200', OTEL_BSP_MAX_EXPORT_BATCH_SIZE: 'x' }, [])?.batch, { scheduledDelayMillis: 200 });
});
