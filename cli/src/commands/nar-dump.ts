/**
 * `farm nar dump PATH`: the NAR serialisation of PATH on stdout, byte-identical to
 * `nix-store --dump PATH`.
 *
 * Failure handling: PATH is lstat'ed before any output. If reading fails midway and stdout is a
 * regular file, the file is truncated back to where it was, so no half NAR is left in it. On a
 * pipe the bytes already sent cannot be recalled: the reader sees a truncated NAR (which every
 * NAR parser rejects) and this command exits 1 with the error on stderr.
 */
import { fstatSync, ftruncateSync, lstatSync } from 'node:fs';
import type { Writable } from 'node:stream';
import { Command, Option } from 'clipanion';
import { NarReadable, isNixFormatError } from '@farm/nix';

export class NarDumpCommand extends Command {
  static override paths = [['nar', 'dump']];
  static override usage = Command.Usage({
    category: 'NAR',
    description: 'write the NAR serialisation of a path to stdout (same bytes as nix-store --dump)',
    details: 'Directory entries are sorted bytewise, a file is executable iff its owner-x bit is set, symlinks are stored raw; sockets, FIFOs and devices are refused. If an error happens after output began and stdout is a regular file, the file is truncated back; on a pipe the output ends early (a truncated NAR) and the exit status is 1.',
    examples: [
      ['Dump a directory to a file', '$0 nar dump ./result > result.nar'],
      ['Compare with Nix', 'cmp <($0 nar dump ./src) <(nix-store --dump ./src)'],
    ],
  });

  target = Option.String({ name: 'path', required: true });

  async execute(): Promise<number> {
    const out = this.context.stdout;
    const fd = (out as { fd?: unknown }).fd;
    const fileStart = typeof fd === 'number' ? regularFileSize(fd) : undefined;
    try {
      lstatSync(this.target);
    } catch (e) {
      this.context.stderr.write(`farm nar dump: cannot read ${this.target}: ${(e as { code?: string }).code ?? String(e)}\n`);
      return 1;
    }
    try {
      await pipeTo(new NarReadable(this.target), out);
      return 0;
    } catch (e) {
      if (fileStart !== undefined && typeof fd === 'number') ftruncateSync(fd, fileStart);
      this.context.stderr.write(`farm nar dump: ${isNixFormatError(e) ? e.message : String(e)}\n`);
      return 1;
    }
  }
}

/** Size of fd if it is a regular file (where output starts when appending), else undefined. */
function regularFileSize(fd: number): number | undefined {
  try {
    const st = fstatSync(fd);
    return st.isFile() ? st.size : undefined;
  } catch {
    return undefined;
  }
}

/** Copies the readable into `out` with backpressure, without ending `out` (it is stdout). */
async function pipeTo(src: NarReadable, out: Writable): Promise<void> {
  for await (const chunk of src) {
    if (!out.write(chunk)) await new Promise<void>((resolve) => out.once('drain', resolve));
  }
  await new Promise<void>((resolve, reject) => out.write('', (err) => (err ? reject(err) : resolve())));
}
