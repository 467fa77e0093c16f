/**
 * Structured JSON logs via pino (fast, well kept, JSON by default). Components receive a
 * Logger; only the binaries' entry points create the root one.
 *
 * Every line logged while a recording span is active carries its `trace_id` and `span_id`, so
 * a log line leads to its trace and back (with tracing off no span records: nothing is added).
 */
import { trace } from '@opentelemetry/api';
import { pino, type DestinationStream, type Logger as PinoLogger } from 'pino';

export type Logger = PinoLogger;
export type LogLevel = 'fatal' | 'error' | 'warn' | 'info' | 'debug' | 'trace' | 'silent';

export const LOG_LEVELS: readonly LogLevel[] = ['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent'];

/**
 * pino mixin: the active recording span's ids (OpenTelemetry's log field names). Always a fresh
 * object: pino merges each line's own fields into the object a mixin returns (Object.assign onto
 * it), so a shared one would carry every earlier line's fields into the later ones.
 */
export function traceIdsMixin(): Record<string, string> {
  const span = trace.getActiveSpan();
  if (span === undefined || !span.isRecording()) return {};
  const sc = span.spanContext();
  return { trace_id: sc.traceId, span_id: sc.spanId };
}

export function createLogger(options: { name: string; level?: LogLevel }, destination?: DestinationStream): Logger {
  const opts = { name: options.name, level: options.level ?? 'info', mixin: traceIdsMixin };
  return destination === undefined ? pino(opts) : pino(opts, destination);
}

export function silentLogger(): Logger {
  return pino({ level: 'silent' });
}

/** A LogLevel from an environment variable's text (e.g. FARM_LOG_LEVEL), or undefined when unset or unknown. */
export function logLevelFrom(text: string | undefined): LogLevel | undefined {
  const t = text?.trim().toLowerCase();
  return t !== undefined && (LOG_LEVELS as readonly string[]).includes(t) ? (t as LogLevel) : undefined;
}
