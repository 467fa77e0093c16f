/**
 * `farm nar hash`, run: narHash and narSize of a path, as `sha256:<nix32> <size>` or JSON.
 * Loaded by commands/nar-hash.ts when the command runs.
 */
import type { Writable } from 'node:stream';
import { hashPath, isNixFormatError } from '@farm/nix';

export function printNarHash(options: { target: string; json: boolean; stdout: Writable; stderr: Writable }): number {
  try {
    const { narHash, narSize } = hashPath(options.target);
    if (options.json) {
      const out = { narHash: narHash.toPrefixed('nix32'), narHashSRI: narHash.encode('sri'), narHashBase16: narHash.encode('base16'), narSize };
      options.stdout.write(`${JSON.stringify(out)}\n`);
    } else {
      options.stdout.write(`${narHash.toPrefixed('nix32')} ${narSize}\n`);
    }
    return 0;
  } catch (e) {
    options.stderr.write(`farm nar hash: ${isNixFormatError(e) ? e.message : String(e)}\n`);
    return 1;
  }
}
