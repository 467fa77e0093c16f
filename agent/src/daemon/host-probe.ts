/** The real host behind detectCapabilities: Node's arch/platform, executables on PATH, binfmt_misc entries. */
import { accessSync, constants, readdirSync, readFileSync } from 'node:fs';
import { delimiter, join } from 'node:path';
import type { HostProbe } from '../capabilities.js';
import { parseBinfmtEntry, type BinfmtEntry } from '../emulation.js';

const BINFMT_DIR = '/proc/sys/fs/binfmt_misc';

export function hostProbe(path = process.env['PATH'] ?? '/usr/bin:/bin', binfmtDir = BINFMT_DIR): HostProbe {
  const dirs = path.split(delimiter).filter((d) => d !== '');
  return {
    arch: process.arch,
    platform: process.platform,
    findProgram: (name) =>
      dirs
        .map((dir) => join(dir, name))
        .find((file) => {
          try {
            accessSync(file, constants.X_OK);
            return true;
          } catch {
            return false;
          }
        }),
    binfmt: readBinfmtEntries(binfmtDir),
  };
}

/** Enabled entries; none when binfmt_misc is not mounted or not readable. */
export function readBinfmtEntries(dir = BINFMT_DIR): BinfmtEntry[] {
  let names: string[];
  try {
    names = readdirSync(dir).filter((n) => n !== 'register' && n !== 'status');
  } catch {
    return [];
  }
  const entries: BinfmtEntry[] = [];
  for (const name of names) {
    try {
      const entry = parseBinfmtEntry(name, readFileSync(join(dir, name), 'utf8'));
      if (entry !== undefined) entries.push(entry);
    } catch {
      // removed meanwhile, or unreadable: not an entry we can use
    }
  }
  return entries;
}
