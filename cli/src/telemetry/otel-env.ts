/**
 * Whether this `farm` process exports traces, decided from OpenTelemetry's standard variables
 * alone (no dependency: run-cli.ts imports this before anything else, and with tracing off the
 * SDK is never loaded):
 * - off when OTEL_SDK_DISABLED=true or OTEL_TRACES_EXPORTER does not name `otlp` (e.g. `none`);
 * - on when, besides, an OTLP endpoint is set (OTEL_EXPORTER_OTLP_TRACES_ENDPOINT or
 *   OTEL_EXPORTER_OTLP_ENDPOINT): there is no default collector to send to by surprise;
 * - the protocol is OTEL_EXPORTER_OTLP_TRACES_PROTOCOL, else OTEL_EXPORTER_OTLP_PROTOCOL:
 *   `grpc` or `http/protobuf` (the default);
 * - service.name is OTEL_SERVICE_NAME, else by command: `farm up` and `farm coordinator` run the
 *   coordinator (farm-coordinator), `farm agent` an agent (farm-agent), the rest farm-cli.
 */
export type OtlpProtocol = 'http/protobuf' | 'grpc';

export interface TracingSettings {
  readonly serviceName: string;
  readonly protocol: OtlpProtocol;
  /** BatchSpanProcessor tuning from OTEL_BSP_* (undefined = the SDK's default). */
  readonly batch: { readonly scheduledDelayMillis?: number; readonly maxQueueSize?: number; readonly maxExportBatchSize?: number; readonly exportTimeoutMillis?: number };
}

type Env = Readonly<Record<string, string | undefined>>;

const SERVICE_BY_COMMAND: Readonly<Record<string, string>> = { up: 'farm-coordinator', coordinator: 'farm-coordinator', agent: 'farm-agent' };

export function serviceNameFor(args: readonly string[]): string {
  return SERVICE_BY_COMMAND[args[0] ?? ''] ?? 'farm-cli';
}

export function tracingSettings(env: Env, args: readonly string[]): TracingSettings | undefined {
  if (text(env['OTEL_SDK_DISABLED'])?.toLowerCase() === 'true') return undefined;
  const exporters = (text(env['OTEL_TRACES_EXPORTER']) ?? 'otlp').split(',').map((s) => s.trim().toLowerCase());
  if (!exporters.includes('otlp')) return undefined;
  if (text(env['OTEL_EXPORTER_OTLP_TRACES_ENDPOINT']) === undefined && text(env['OTEL_EXPORTER_OTLP_ENDPOINT']) === undefined) return undefined;
  const protocol = (text(env['OTEL_EXPORTER_OTLP_TRACES_PROTOCOL']) ?? text(env['OTEL_EXPORTER_OTLP_PROTOCOL']))?.toLowerCase() === 'grpc' ? 'grpc' : 'http/protobuf';
  const batch: { -readonly [K in keyof TracingSettings['batch']]: number } = {};
  const n = (name: string): number | undefined => {
    const v = Number(text(env[name]));
    return Number.isFinite(v) && v >= 0 && text(env[name]) !== undefined ? v : undefined;
  };
  const delay = n('OTEL_BSP_SCHEDULE_DELAY');
  if (delay !== undefined) batch.scheduledDelayMillis = delay;
  const queue = n('OTEL_BSP_MAX_QUEUE_SIZE');
  if (queue !== undefined && queue > 0) batch.maxQueueSize = queue;
  const size = n('OTEL_BSP_MAX_EXPORT_BATCH_SIZE');
  if (size !== undefined && size > 0) batch.maxExportBatchSize = Math.min(size, queue ?? 2048);
  const timeout = n('OTEL_BSP_EXPORT_TIMEOUT');
  if (timeout !== undefined && timeout > 0) batch.exportTimeoutMillis = timeout;
  return { serviceName: text(env['OTEL_SERVICE_NAME']) ?? serviceNameFor(args), protocol, batch };
}

function text(v: string | undefined): string | undefined {
  const t = v?.trim();
  return t === undefined || t === '' ? undefined : t;
}
