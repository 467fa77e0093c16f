/**
 * `farm nar unpack`, run: restore a NAR read from `stdin` into `dest`; on any error `dest` is
 * removed (by unpackNar) and one line goes to stderr. Loaded by commands/nar-unpack.ts.
 */
import type { Readable, Writable } from 'node:stream';
import { isNixFormatError, unpackNar } from '@farm/nix';

export async function unpackNarTo(options: { dest: string; stdin: Readable; stderr: Writable }): Promise<number> {
  try {
    await unpackNar(options.stdin, options.dest);
    return 0;
  } catch (e) {
    options.stderr.write(`farm nar unpack: ${isNixFormatError(e) ? e.message : String(e)}\n`);
    return 1;
  }
}
