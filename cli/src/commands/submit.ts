/**
 * `farm submit <installable…>`: build derivations on the farm. This file declares the flags;
 * client/submit-command-run.ts (loaded when the command runs) turns them into settings and picks
 * the progress display, and client/submit-flow.ts does the work.
 */
import { Command, Option } from 'clipanion';
import { ClientCommand } from '../client/client-command.js';

export class SubmitCommand extends ClientCommand {
  static override paths = [['submit']];

  static override usage = Command.Usage({
    category: 'Builds',
    description: 'build derivations on the farm and wait for the results',
    details: `
      Evaluates each installable with the local Nix (an attribute set is walked to every
      derivation inside it, as Hydra walks \`hydraJobs\`), uploads the \`.drv\` files and sources
      the farm does not have yet (dependencies first), submits the roots, and follows the build
      until it ends: a live view on a terminal, one line per change otherwise.

      Installables: flake references (\`.#attr\`, \`./dir#attr\`, \`path:/dir#attr\`), \`-f FILE\` with
      attribute paths (\`-A attr\`, repeatable; \`-A\` alone means \`-f default.nix\`), or \`.drv\` store
      paths.

      At the end every root's outputs are printed on stdout as \`<attr> -> /nix/store/…\`. If any
      derivation failed, each is named on stderr with its reason (dependency failures name the
      input that failed) and the exit status is 1.

      Durations (\`--timeout\`, \`--max-silent-time\`) are written like \`30s\`, \`10m\`, \`1h30m\`, or as
      seconds; 0 means the farm's default.
    `,
    examples: [
      ['Build every package of a flake attribute set', '$0 submit .#all'],
      ['Build from a Nix file, two attributes', '$0 submit -f ./default.nix -A left -A right'],
      ['Build an instantiated derivation and show its build log', '$0 submit -L /nix/store/…-hello.drv'],
      ['Machine-readable progress', '$0 submit --json .#all > events.jsonl'],
      ['Build, then import the outputs into the local store', '$0 submit --copy-back .#default'],
      ['Submit and return at once', '$0 submit --no-wait --priority 10 .#all'],
    ],
  });

  file = Option.String('-f,--file', { description: 'a Nix file; the arguments (and -A) are attribute paths in it' });
  attrs = Option.Array('-A,--attr', { description: 'an attribute path in the -f file (repeatable)' });
  priority = Option.String('--priority', '0', { description: 'a bump over other submissions: higher runs earlier among equals' });
  timeout = Option.String('--timeout', { description: "per-job build timeout (e.g. 2h); default: the farm's" });
  maxSilentTime = Option.String('--max-silent-time', { description: "kill a job silent for this long (e.g. 10m); default: the farm's" });
  printBuildLogs = Option.Boolean('-L,--print-build-logs', false, { description: 'stream every build log, each line prefixed with the derivation name' });
  json = Option.Boolean('--json', false, { description: 'print one JSON object per event on stdout' });
  copyBack = Option.Boolean('--copy-back', false, { description: "import the roots' outputs (and what they need) into the local Nix store" });
  noWait = Option.Boolean('--no-wait', false, { description: 'print the submission id and exit without waiting' });
  installables = Option.Rest({ name: 'installable' });

  override async execute(): Promise<number> {
    let run;
    let settings;
    try {
      run = await import('../client/submit-command-run.js');
      settings = run.submitSettings(this, this.context.env);
    } catch (e) {
      return this.fail(e);
    }
    const { submitAndWatch } = run;
    return this.withClient((client) => submitAndWatch(client, settings, this, this.context));
  }
}
