/** The real host behind detectCapabilities: Node's arch/platform and executables on PATH. */
import { accessSync, constants } from 'node:fs';
import { delimiter, join } from 'node:path';
import type { HostProbe } from '../capabilities.js';

export function hostProbe(path = process.env['PATH'] ?? '/usr/bin:/bin'): HostProbe {
  const dirs = path.split(delimiter).filter((d) => d !== '');
  return {
    arch: process.arch,
    platform: process.platform,
    hasProgram: (name) =>
      dirs.some((dir) => {
        try {
          accessSync(join(dir, name), constants.X_OK);
          return true;
        } catch {
          return false;
        }
      }),
  };
}
