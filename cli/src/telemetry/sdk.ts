/**
 * The OpenTelemetry trace SDK for one `farm` process, loaded (with `await import()`) by
 * run-cli.ts only when otel-env.ts says tracing is on. It registers, globally, what the
 * packages' @opentelemetry/api calls then reach:
 * - a tracer provider with the process's service.name (plus OTEL_RESOURCE_ATTRIBUTES) and a
 *   batch span processor over the OTLP exporter of the configured protocol (the exporters read
 *   the OTEL_EXPORTER_OTLP_* endpoint, headers and timeout variables themselves);
 * - the W3C trace-context propagator (traceparent/tracestate in gRPC metadata and NATS headers);
 * - an AsyncLocalStorage context manager, so the active span follows awaits.
 * shutdown() ends the batch processor after exporting what it holds: the CLI calls it before
 * exiting, the daemons after they closed on SIGTERM/SIGINT.
 */
import { context, propagation, trace } from '@opentelemetry/api';
import { AsyncLocalStorageContextManager } from '@opentelemetry/context-async-hooks';
import { W3CTraceContextPropagator } from '@opentelemetry/core';
import { detectResources, envDetector, resourceFromAttributes } from '@opentelemetry/resources';
import { BatchSpanProcessor, TracerProvider, type SpanExporter } from '@opentelemetry/sdk-trace';
import { FARM_VERSION } from '../version.js';
import type { TracingSettings } from './otel-env.js';

export interface Tracing {
  shutdown(): Promise<void>;
}

export async function startTracing(settings: TracingSettings): Promise<Tracing> {
  const exporter: SpanExporter =
    settings.protocol === 'grpc'
      ? new (await import('@opentelemetry/exporter-trace-otlp-grpc')).OTLPTraceExporter()
      : new (await import('@opentelemetry/exporter-trace-otlp-proto')).OTLPTraceExporter();
  const resource = detectResources({ detectors: [envDetector] }).merge(
    resourceFromAttributes({ 'service.name': settings.serviceName, 'service.version': FARM_VERSION, 'process.pid': process.pid }),
  );
  const provider = new TracerProvider({ resource, spanProcessors: [new BatchSpanProcessor({ exporter, ...settings.batch })] });
  const contextManager = new AsyncLocalStorageContextManager().enable();
  context.setGlobalContextManager(contextManager);
  propagation.setGlobalPropagator(new W3CTraceContextPropagator());
  trace.setGlobalTracerProvider(provider);
  let done: Promise<void> | undefined;
  return {
    shutdown: () =>
      (done ??= provider.shutdown().then(
        () => undefined,
        () => undefined, // a collector that is down must not fail the command
      )),
  };
}
