/**
 * `farm status [submission]`: the farm's jobs by state and its submissions; with a submission
 * id, that submission and each of its jobs with state, agent and reason.
 */
import { Command, Option } from 'clipanion';
import { ClientCommand } from '../client/client-command.js';

export class StatusCommand extends ClientCommand {
  static override paths = [['status']];

  static override usage = Command.Usage({
    category: 'Builds',
    description: 'show the jobs and submissions of the farm, or of one submission',
    details: `
      Without an argument: how many jobs are in each state, and every submission with its
      progress (succeeded/total, failed) and whether it is done. With a submission id: each of its
      jobs with its state, the agent it runs or ran on, and the reason (waiting for capacity,
      failure message, …).
    `,
    examples: [
      ['The whole farm', '$0 status'],
      ['One submission', '$0 status 01J9Z6Q4T3M8N5K2'],
      ['Machine-readable', '$0 status --json'],
    ],
  });

  json = Option.Boolean('--json', false, { description: 'print the answer as JSON' });
  submission = Option.String({ name: 'submission', required: false });

  override async execute(): Promise<number> {
    return this.withClient(async (client) => {
      const { showStatus } = await import('../client/status-view.js');
      return showStatus(client, { submission: this.submission, json: this.json, stdout: this.context.stdout });
    });
  }
}
