/**
 * Every command the `farm` binary offers. One command per file; register new ones here.
 */
import type { CommandClass } from 'clipanion';
import { AgentCommand } from './agent.js';
import { AgentsCommand } from './agents.js';
import { CacheKeyCommand } from './cache-key.js';
import { CancelCommand } from './cancel.js';
import { CoordinatorCommand } from './coordinator.js';
import { DrvShowCommand } from './drv-show.js';
import { ExplainCommand } from './explain.js';
import { groupHelpCommand } from './group-help.js';
import { LogsCommand } from './logs.js';
import { NarDumpCommand } from './nar-dump.js';
import { NarHashCommand } from './nar-hash.js';
import { NarUnpackCommand } from './nar-unpack.js';
import { NixStdioCommand } from './nix-stdio.js';
import { RetryCommand } from './retry.js';
import { StatusCommand } from './status.js';
import { SubmitCommand } from './submit.js';
import { UpCommand } from './up.js';

export const commands: CommandClass[] = [
  UpCommand,
  SubmitCommand,
  LogsCommand,
  StatusCommand,
  ExplainCommand,
  RetryCommand,
  CancelCommand,
  AgentsCommand,
  CacheKeyCommand,
  CoordinatorCommand,
  AgentCommand,
  NixStdioCommand,
  DrvShowCommand,
  NarDumpCommand,
  NarHashCommand,
  NarUnpackCommand,
  groupHelpCommand('nar', 'Nix archives: dump, hash and unpack NARs exactly as Nix does.'),
  groupHelpCommand('drv', 'Derivations: show .drv files and check their paths.'),
  groupHelpCommand('cache', "The farm's signed HTTP binary cache."),
];
