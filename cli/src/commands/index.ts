/**
 * Every command the `farm` binary offers. One command per file; register new ones here.
 */
import type { CommandClass } from 'clipanion';

export const commands: CommandClass[] = [];
