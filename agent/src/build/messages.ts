/** Failure messages in the shape Nix 2.8 prints them (derivation-goal.cc, worker.cc). */
import type { KillReason } from '../sandbox/run-sandboxed.js';

const seconds = (ms: number | undefined) => String((ms ?? 0) / 1000);

export function exitMessage(drvPath: string, exitCode: number): string {
  return `builder for '${drvPath}' failed with exit code ${exitCode}`;
}

export function killMessage(drvPath: string, reason: KillReason, limits: { timeoutMs?: number | undefined; maxSilentMs?: number | undefined; maxLogBytes?: number | undefined }): string {
  const name = `building of '${drvPath}'`;
  switch (reason) {
    case 'timeout':
      return `${name} timed out after ${seconds(limits.timeoutMs)} seconds`;
    case 'max-silent':
      return `${name} timed out after ${seconds(limits.maxSilentMs)} seconds of silence`;
    case 'log-limit':
      return `${name} killed after writing more than ${limits.maxLogBytes ?? 0} bytes of log output`;
    case 'cancelled':
      return `${name} was cancelled`;
  }
}

export function missingOutputMessage(drvPath: string, output: string, path: string): string {
  return `builder for '${drvPath}' failed to produce output path for output '${output}' at '${path}'`;
}

export function hashMismatchMessage(path: string, specified: string, got: string): string {
  return `hash mismatch in fixed-output derivation '${path}':\n  specified: ${specified}\n     got:    ${got}`;
}

export function sandboxErrorMessage(drvPath: string, exitCode: number | null, signal: string | null, error?: string): string {
  if (error !== undefined) return `could not set up the sandbox for '${drvPath}': ${error}`;
  const how = signal !== null ? `was killed by ${signal}` : `exited with code ${exitCode ?? '?'}`;
  return `could not set up the sandbox for '${drvPath}': bwrap ${how} before the builder started`;
}
