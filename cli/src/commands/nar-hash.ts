/**
 * `farm nar hash PATH [--json]`: narHash and narSize of PATH (the hash `nix-hash --type sha256
 * PATH` computes), printed as `sha256:<nix32> <size>` or as JSON.
 */
import { Command, Option } from 'clipanion';
import { hashPath, isNixFormatError } from '@farm/nix';

export class NarHashCommand extends Command {
  static override paths = [['nar', 'hash']];
  static override usage = Command.Usage({
    category: 'NAR',
    description: 'print the NAR hash (sha256) and NAR size of a path',
    details: 'Prints `sha256:<nix32> <narSize>`. With --json prints {narHash, narHashSRI, narHashBase16, narSize}; narHash is the prefixed nix32 form Nix writes in narinfo files.',
    examples: [
      ['Hash a store path', '$0 nar hash /nix/store/…-hello'],
      ['Machine-readable', '$0 nar hash --json ./result'],
    ],
  });

  json = Option.Boolean('--json', false, { description: 'print JSON' });
  target = Option.String({ name: 'path', required: true });

  async execute(): Promise<number> {
    try {
      const { narHash, narSize } = hashPath(this.target);
      if (this.json) {
        const out = { narHash: narHash.toPrefixed('nix32'), narHashSRI: narHash.encode('sri'), narHashBase16: narHash.encode('base16'), narSize };
        this.context.stdout.write(`${JSON.stringify(out)}\n`);
      } else {
        this.context.stdout.write(`${narHash.toPrefixed('nix32')} ${narSize}\n`);
      }
      return 0;
    } catch (e) {
      this.context.stderr.write(`farm nar hash: ${isNixFormatError(e) ? e.message : String(e)}\n`);
      return 1;
    }
  }
}
