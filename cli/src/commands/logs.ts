/**
 * `farm logs <drv-or-job> [-f]`: a job's build log, raw bytes on stdout in order, every attempt;
 * a `--- attempt N ---` line on stderr where a new attempt (epoch) begins, and a note on stderr
 * where the farm's log limit cut the log.
 */
import { Command, Option } from 'clipanion';
import { ClientCommand } from '../client/client-command.js';

export class LogsCommand extends ClientCommand {
  static override paths = [['logs']];

  static override usage = Command.Usage({
    category: 'Builds',
    description: "print a job's build log",
    details: `
      The argument is a derivation (\`/nix/store/…-name.drv\` or its base name) or a job id (the
      32-character hash part of the drv path, as \`farm status <submission>\` shows it).

      The log's bytes are written to stdout unchanged, every attempt in order; where a new attempt
      begins, a line \`--- attempt N ---\` goes to stderr. If the farm's per-job log limit was
      reached, stderr says so. With \`-f\` the log is followed while the job runs, until it ends.
    `,
    examples: [
      ['Print the log of a derivation', '$0 logs /nix/store/…-hello-2.12.drv'],
      ['Follow a running job by id', '$0 logs -f 0c5ch9zx8gqfnx5f8w2hfk3dzrz8v1yx'],
    ],
  });

  follow = Option.Boolean('-f,--follow', false, { description: 'keep printing while the job runs' });
  target = Option.String({ name: 'drv-or-job', required: true });

  override async execute(): Promise<number> {
    return this.withClient(async (client) => {
      const { printLog } = await import('../client/logs-view.js');
      return printLog(client, { target: this.target, follow: this.follow, stdout: this.context.stdout, stderr: this.context.stderr });
    });
  }
}
