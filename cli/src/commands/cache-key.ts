/** `farm cache key`: the farm's binary cache public key and URL, ready for nix.conf. */
import { Command, Option } from 'clipanion';
import { ClientCommand } from '../client/client-command.js';

export class CacheKeyCommand extends ClientCommand {
  static override paths = [['cache', 'key']];

  static override usage = Command.Usage({
    category: 'Farm',
    description: "print the binary cache's public key and URL for nix.conf",
    details: `
      The coordinator serves every path of the farm store as a signed HTTP binary cache. This
      prints the public key of the key it signs with — the line to add to \`trusted-public-keys\`
      — then the cache's URL and a nix.conf snippet that makes Nix substitute from the farm.

      With \`--quiet\` only the key line is printed; \`--json\` prints \`{"publicKey", "cacheUrl"}\`.
      A coordinator that serves no binary cache is an error.
    `,
    examples: [
      ['Show the key, the URL and a nix.conf snippet', '$0 cache key'],
      ['Just the key, for a script', '$0 cache key --quiet'],
      ['Machine-readable', '$0 cache key --json'],
    ],
  });

  json = Option.Boolean('--json', false, { description: 'print {publicKey, cacheUrl} as one JSON object' });
  quiet = Option.Boolean('--quiet,-q', false, { description: 'print only the public key line' });

  override async execute(): Promise<number> {
    return this.withClient(async (client) => {
      const { showCacheKey } = await import('../client/cache-key-view.js');
      return showCacheKey(client, { json: this.json, quiet: this.quiet, stdout: this.context.stdout });
    });
  }
}
