/**
 * `farm nar unpack DEST < file.nar`: restores a NAR read from stdin into DEST (which must not
 * exist). On any error — malformed NAR, truncation, trailing bytes, filesystem failure — DEST is
 * removed, one line naming the problem and byte offset goes to stderr, and the exit status is 1.
 */
import { Command, Option } from 'clipanion';

export class NarUnpackCommand extends Command {
  static override paths = [['nar', 'unpack']];
  static override usage = Command.Usage({
    category: 'NAR',
    description: 'restore a NAR from stdin into a new path',
    details: 'DEST must not exist; its parent must. Files get mode 0644 (0755 if executable), directories 0755. Nothing is written outside DEST, symlinks in the NAR are never followed, and DEST is removed again if the NAR is invalid, truncated or followed by trailing bytes.',
    examples: [
      ['Round-trip a tree', 'nix-store --dump ./src | $0 nar unpack ./copy'],
      ['Restore from a file', '$0 nar unpack ./out < out.nar'],
    ],
  });

  dest = Option.String({ required: true });

  async execute(): Promise<number> {
    const { unpackNarTo } = await import('../tools/nar-unpack.js');
    return unpackNarTo({ dest: this.dest, stdin: this.context.stdin, stderr: this.context.stderr });
  }
}
