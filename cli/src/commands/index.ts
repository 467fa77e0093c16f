/**
 * Every command the `farm` binary offers. One command per file; register new ones here.
 */
import type { CommandClass } from 'clipanion';
import { AgentsCommand } from './agents.js';
import { CancelCommand } from './cancel.js';
import { DrvShowCommand } from './drv-show.js';
import { groupHelpCommand } from './group-help.js';
import { LogsCommand } from './logs.js';
import { NarDumpCommand } from './nar-dump.js';
import { NarHashCommand } from './nar-hash.js';
import { NarUnpackCommand } from './nar-unpack.js';
import { StatusCommand } from './status.js';
import { SubmitCommand } from './submit.js';

export const commands: CommandClass[] = [
  SubmitCommand,
  LogsCommand,
  StatusCommand,
  CancelCommand,
  AgentsCommand,
  DrvShowCommand,
  NarDumpCommand,
  NarHashCommand,
  NarUnpackCommand,
  groupHelpCommand('nar', 'Nix archives: dump, hash and unpack NARs exactly as Nix does.'),
  groupHelpCommand('drv', 'Derivations: show .drv files and check their paths.'),
];
