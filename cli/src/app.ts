/**
 * Builds the clipanion CLI. Kept apart from main.ts so tests can run commands in-process
 * with their own streams.
 */
import { Builtins, Cli } from 'clipanion';
import { commands } from './commands/index.js';
import { FARM_VERSION } from './version.js';

export function createCli(): Cli {
  const cli = new Cli({ binaryLabel: 'farm — a Nix-compatible build farm', binaryName: 'farm', binaryVersion: FARM_VERSION });
  cli.register(Builtins.HelpCommand);
  cli.register(Builtins.VersionCommand);
  for (const c of commands) cli.register(c);
  return cli;
}
