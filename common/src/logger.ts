/**
 * Structured JSON logs via pino (fast, well kept, JSON by default). Components receive a
 * Logger; only the binaries' entry points create the root one.
 */
import { pino, type DestinationStream, type Logger as PinoLogger } from 'pino';

export type Logger = PinoLogger;
export type LogLevel = 'fatal' | 'error' | 'warn' | 'info' | 'debug' | 'trace' | 'silent';

export function createLogger(options: { name: string; level?: LogLevel }, destination?: DestinationStream): Logger {
  const opts = { name: options.name, level: options.level ?? 'info' };
  return destination === undefined ? pino(opts) : pino(opts, destination);
}

export function silentLogger(): Logger {
  return pino({ level: 'silent' });
}
