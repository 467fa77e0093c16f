/**
 * FARM_LOG_LEVEL: the log level of the daemons `farm up` runs (its coordinator and agents), as
 * their configs' `logLevel` would set it. Unset means their default (info); anything but the
 * levels the configs accept is an error naming them, not a silently ignored typo.
 */
import { FarmError } from '@farm/common';

export type DaemonLogLevel = 'debug' | 'info' | 'warn' | 'error';
const LEVELS: readonly DaemonLogLevel[] = ['debug', 'info', 'warn', 'error'];

export function daemonLogLevel(env: Readonly<Record<string, string | undefined>>): DaemonLogLevel | undefined {
  const text = env['FARM_LOG_LEVEL']?.trim().toLowerCase();
  if (text === undefined || text === '') return undefined;
  if (!(LEVELS as readonly string[]).includes(text)) throw new FarmError('INVALID_CONFIG', `FARM_LOG_LEVEL must be one of ${LEVELS.join(', ')}, not '${env['FARM_LOG_LEVEL']}'`);
  return text as DaemonLogLevel;
}
