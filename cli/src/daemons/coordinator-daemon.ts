/**
 * `farm coordinator`, run: the coordinator daemon from its config file and flags (see
 * run-daemon.ts). Loaded by commands/coordinator.ts when the command runs: @farm/coordinator
 * is heavy (gRPC, NATS, LMDB).
 */
import type { Writable } from 'node:stream';
import { compileCoordinatorConfig, startCoordinator } from '@farm/coordinator';
import { runDaemon } from './run-daemon.js';

export function runCoordinatorDaemon(options: { configFile: string | undefined; overrides: Record<string, string | undefined>; stderr: Writable }): Promise<number> {
  return runDaemon({
    label: 'farm coordinator',
    configFile: options.configFile,
    overrides: options.overrides,
    compile: compileCoordinatorConfig,
    start: (config) => startCoordinator(config),
    stderr: options.stderr,
  });
}
