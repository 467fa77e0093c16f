/**
 * What `farm coordinator` and `farm agent` share: read the JSON config file (if any), lay the
 * given flags over it, compile and start the daemon, run until SIGINT/SIGTERM, then close it.
 */
import type { Writable } from 'node:stream';
import { isFarmError } from '@farm/common';
import { readJsonConfig, withOverrides } from './config-file.js';
import { untilSignal } from './until-signal.js';

export interface DaemonLaunch<Config> {
  /** For messages: `farm coordinator`, `farm agent`. */
  readonly label: string;
  readonly configFile: string | undefined;
  /** Flags that were given (undefined = not given) — `nats` is a comma-separated URL list. */
  readonly overrides: Record<string, string | undefined>;
  readonly compile: (input: unknown, source: string) => Config;
  readonly start: (config: Config) => Promise<{ close(): Promise<void> }>;
  readonly stderr: Writable;
}

export async function runDaemon<Config>(launch: DaemonLaunch<Config>): Promise<number> {
  const signalled = untilSignal();
  let running;
  try {
    const base = launch.configFile === undefined ? {} : readJsonConfig(launch.configFile);
    const { nats, ...rest } = launch.overrides;
    const input = withOverrides(base, { ...rest, nats: nats === undefined ? undefined : { servers: nats.split(',') } });
    running = await launch.start(launch.compile(input, launch.configFile ?? 'command line'));
  } catch (e) {
    launch.stderr.write(`${launch.label}: ${isFarmError(e) ? e.message : String((e as Error).stack ?? e)}\n`);
    return 1;
  }
  await signalled;
  await running.close();
  return 0;
}
