/**
 * `farm nix-stdio --serve --write` / `farm nix-stdio --stdio`: Nix's serve or worker protocol on
 * stdin/stdout, spoken by the farm — a `remote-program` for `ssh://` and `ssh-ng://` builders
 * (through an ordinary sshd, or for `localhost` entries, which Nix runs without ssh).
 */
import { Command, Option } from 'clipanion';
import { ClientCommand } from '../client/client-command.js';

export class NixStdioCommand extends ClientCommand {
  static override paths = [['nix-stdio']];

  static override usage = Command.Usage({
    category: 'Nix',
    description: "speak Nix's remote-store protocols on stdin/stdout, for remote-program=",
    details: `
      With \`--serve\` (and \`--write\`, which Nix's build hook always passes) this is
      \`nix-store --serve --write\`: the protocol of \`ssh://\` stores. With \`--stdio\` it is
      \`nix-daemon --stdio\`: the protocol of \`ssh-ng://\` stores. Either way the session runs
      against the farm found like every other command (\`--coordinator\`, \`$FARM_COORDINATOR\`,
      \`address.json\`): uploads go into the farm store (verified), builds become farm jobs, and
      build logs come back live (on stderr for \`--serve\`, as log messages for \`--stdio\`).

      Nix 2.8 runs \`bash -c "<remote-program> --serve --write"\` for the host name \`localhost\`
      without ssh, so a builders entry needs no sshd at all. Nix ≥ 2.20 runs the program without a
      shell: use the single executable \`farm-nix-stdio\` (cli/bin) there.

      \`--store\` is accepted for the default store only: the farm has one.
    `,
    examples: [
      ['Offload builds to the local farm over ssh-ng', `nix-build --max-jobs 0 --builders 'ssh-ng://localhost?remote-program=farm-nix-stdio x86_64-linux,aarch64-linux - 8'`],
      ['The same over ssh://', `nix-build --max-jobs 0 --builders 'ssh://localhost?remote-program=farm-nix-stdio x86_64-linux - 8'`],
      ['Copy a closure into the farm', `nix copy --to 'ssh-ng://localhost?remote-program=farm-nix-stdio' ./result`],
    ],
  });

  serve = Option.Boolean('--serve', false, { description: 'the serve protocol (nix-store --serve)' });
  write = Option.Boolean('--write', false, { description: 'allow uploads and builds (with --serve)' });
  stdio = Option.Boolean('--stdio', false, { description: 'the worker protocol (nix-daemon --stdio)' });
  store = Option.String('--store', { description: 'only the default store is accepted' });

  override async execute(): Promise<number> {
    if (this.serve === this.stdio) return this.fail(new Error('give exactly one of --serve (ssh://) or --stdio (ssh-ng://)'));
    if (this.write && !this.serve) return this.fail(new Error('--write goes with --serve'));
    if (this.store !== undefined && !['auto', 'daemon', 'local', '/nix/store'].includes(this.store)) {
      return this.fail(new Error(`the farm has one store; --store ${this.store} is not supported`));
    }
    const mode = this.stdio ? 'worker' : this.write ? 'serve-write' : 'serve';
    const { runNixStdio } = await import('../client/nix-stdio-run.js');
    return this.withClient((client) => runNixStdio(client, { mode, stdin: this.context.stdin, stdout: this.context.stdout, stderr: this.context.stderr, env: this.context.env }));
  }
}
