/**
 * `farm nar hash PATH [--json]`: narHash and narSize of PATH (the hash `nix-hash --type sha256
 * PATH` computes), printed as `sha256:<nix32> <size>` or as JSON.
 */
import { Command, Option } from 'clipanion';

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
    const { printNarHash } = await import('../tools/nar-hash.js');
    return printNarHash({ target: this.target, json: this.json, stdout: this.context.stdout, stderr: this.context.stderr });
  }
}
