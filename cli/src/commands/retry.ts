/**
 * `farm retry <submission|drv|job>`: build failed derivations again, with their dependents. The
 * farm caches build failures for a while (a new submission of the same derivation fails at once);
 * retry forgets them and submits anew, then follows the new submission like `farm submit`.
 */
import { Command, Option } from 'clipanion';
import { ClientCommand } from '../client/client-command.js';

export class RetryCommand extends ClientCommand {
  static override paths = [['retry']];

  static override usage = Command.Usage({
    category: 'Builds',
    description: 'build failed derivations again, with what depends on them',
    details: `
      A build failure is cached by the farm (for \`failureTtlMs\`, an hour by default): a later
      submission that needs the same derivation fails at once instead of building it again. \`farm
      retry\` forgets the failure and submits anew, so the failed derivations are built again and
      their dependents with them. The retry is a new submission; the old one stays as it ended.

      The argument is a submission id (its derivations that failed on their own are retried, with
      the same roots, priority and limits), or a derivation (\`/nix/store/…-name.drv\` or its base
      name) or job id that failed on its own (submitted with the roots of the newest submission
      that needed it, so what depends on it is rebuilt too). A derivation that only failed because
      one of its inputs did is refused with the input to retry instead.

      It says what it retried and the new submission, then follows the new submission exactly as
      \`farm submit\` does: a live view on a terminal, one line per change otherwise, \`--json\` for
      JSON lines (the first one is \`{"type":"retried",…}\`). Every root's outputs are printed on
      stdout; the exit status is 1 if anything failed again, or if there was nothing to retry.
    `,
    examples: [
      ['Retry the failed derivations of a submission', '$0 retry sub_5f1c0e9a2b7d4c31'],
      ['Retry one derivation and its dependents, with build logs', '$0 retry -L /nix/store/…-hello-2.12.drv'],
      ['The same by job id, machine-readable', '$0 retry --json 0c5ch9zx8gqfnx5f8w2hfk3dzrz8v1yx'],
      ['Retry and return at once', '$0 retry --no-wait sub_5f1c0e9a2b7d4c31'],
    ],
  });

  printBuildLogs = Option.Boolean('-L,--print-build-logs', false, { description: 'stream every build log, each line prefixed with the derivation name' });
  json = Option.Boolean('--json', false, { description: 'print one JSON object per event on stdout (first: what was retried)' });
  noWait = Option.Boolean('--no-wait', false, { description: 'print the new submission id and exit without waiting' });
  target = Option.String({ name: 'submission|drv|job', required: true });

  override async execute(): Promise<number> {
    let run;
    let settings;
    try {
      run = await import('../client/retry-command-run.js');
      settings = run.retrySettings(this);
    } catch (e) {
      return this.fail(e);
    }
    const { retryAndWatch } = run;
    return this.withClient((client) => retryAndWatch(client, settings, this, this.context));
  }
}
