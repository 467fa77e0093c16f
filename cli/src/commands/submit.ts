/**
 * `farm submit <installable…>`: build derivations on the farm. The work is in
 * client/submit-flow.ts; this file turns flags into settings and picks the progress display.
 */
import { Command, Option } from 'clipanion';
import { FarmError, systemClock } from '@farm/common';
import { ClientCommand } from '../client/client-command.js';
import { parseDuration } from '../client/durations.js';
import { clientIdentity } from '../client/identity.js';
import { runSubmit, type ReporterFactory } from '../client/submit-flow.js';
import { parseInstallable, type Installable } from '../eval/index.js';
import { JsonReporter } from '../progress/json-reporter.js';
import { PlainReporter } from '../progress/plain-reporter.js';
import type { SubmitReporter } from '../progress/reporter.js';
import { TtyReporter } from '../progress/tty-reporter.js';

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
    let settings;
    try {
      settings = this.settings();
    } catch (e) {
      return this.fail(e);
    }
    return this.withClient(async (client) => {
      const { stdout, stderr } = this.context;
      const isTty = (stderr as { isTTY?: boolean }).isTTY === true && this.context.env['TERM'] !== 'dumb';
      let reporter: SubmitReporter | undefined;
      let submissionId: string | undefined;
      const makeReporter: ReporterFactory = (model) => {
        reporter = this.json ? new JsonReporter(stdout) : isTty ? new TtyReporter(stdout, stderr, model, systemClock) : new PlainReporter(stdout, stderr, model, systemClock);
        return reporter;
      };
      // Ctrl-C stops watching, not the builds: leave the terminal tidy and say how to cancel.
      const onInterrupt = (): void => {
        reporter?.close();
        if (submissionId !== undefined) stderr.write(`farm submit: stopped watching; ${submissionId} goes on on the farm (\`farm cancel ${submissionId}\` stops it)\n`);
        process.exit(130);
      };
      process.once('SIGINT', onInterrupt);
      try {
        const outcome = await runSubmit(client, settings, makeReporter, systemClock, (id) => {
          submissionId = id;
          if (this.noWait && !this.json) stdout.write(`${id}\n`);
        });
        return outcome.exitCode;
      } finally {
        process.off('SIGINT', onInterrupt);
      }
    });
  }

  private settings() {
    if (this.noWait && (this.copyBack || this.printBuildLogs)) {
      throw new FarmError('INVALID_ARGUMENT', '--no-wait cannot be combined with --copy-back or --print-build-logs');
    }
    const priority = Number(this.priority);
    if (!Number.isSafeInteger(priority) || Math.abs(priority) > 2 ** 31 - 1) {
      throw new FarmError('INVALID_ARGUMENT', `--priority: '${this.priority}' is not an integer`);
    }
    const cwd = process.cwd();
    return {
      installables: this.parseInstallables(cwd),
      priority,
      timeoutMs: this.timeout !== undefined ? parseDuration(this.timeout, '--timeout') : 0,
      maxSilentMs: this.maxSilentTime !== undefined ? parseDuration(this.maxSilentTime, '--max-silent-time') : 0,
      client: clientIdentity(this.context.env),
      printBuildLogs: this.printBuildLogs,
      copyBack: this.copyBack,
      noWait: this.noWait,
      cwd,
    };
  }

  private parseInstallables(cwd: string): Installable[] {
    const attrs = this.attrs ?? [];
    if (this.file !== undefined || attrs.length > 0) {
      const file = this.file ?? 'default.nix';
      const paths = [...attrs, ...this.installables];
      return (paths.length > 0 ? paths : ['']).map((a) => parseInstallable(a, { file, cwd }));
    }
    if (this.installables.length === 0) throw new FarmError('INVALID_ARGUMENT', 'nothing to build: name an installable (e.g. .#all), or -f FILE -A ATTR');
    return this.installables.map((t) => parseInstallable(t, { cwd }));
  }
}
