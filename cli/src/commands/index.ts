/**
 * Every command the `farm` binary offers. One command per file; register new ones here.
 */
import type { CommandClass } from 'clipanion';
import { DrvShowCommand } from './drv-show.js';

export const commands: CommandClass[] = [DrvShowCommand];
