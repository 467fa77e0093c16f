/**
 * `farm nar dump PATH`: the NAR serialisation of PATH on stdout, byte-identical to
 * `nix-store --dump PATH`.
 *
 * Failure handling: PATH is lstat'ed before any output. If reading fails midway and stdout is a
 * regular file, the file is truncated back to where it was, so no half NAR is left in it. On a
 * pipe the bytes already sent cannot be recalled: the reader sees a truncated NAR (which every
 * NAR parser rejects) and this command exits 1 with the error on stderr.
 */
import { Command, Option } from 'clipanion';

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
    const { dumpNar } = await import('../tools/nar-dump.js');
    return dumpNar({ target: this.target, stdout: this.context.stdout, stderr: this.context.stderr });
  }
}
