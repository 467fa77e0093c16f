/**
 * `farm agent`, run: the agent daemon from its config file and flags (see run-daemon.ts).
 * Loaded by commands/agent.ts when the command runs: @farm/agent is heavy (NATS, sandbox).
 */
import type { Writable } from 'node:stream';
import { compileAgentConfig, startAgent } from '@farm/agent';
import { runDaemon } from './run-daemon.js';

export function runAgentDaemon(options: { configFile: string | undefined; overrides: Record<string, string | undefined>; stderr: Writable }): Promise<number> {
  return runDaemon({
    label: 'farm agent',
    configFile: options.configFile,
    overrides: options.overrides,
    compile: compileAgentConfig,
    start: (config) => startAgent(config),
    stderr: options.stderr,
  });
}
