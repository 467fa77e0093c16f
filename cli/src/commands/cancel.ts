/** `farm cancel <submission>`: stop a submission's jobs, and say what kept running and why. */
import { Command, Option } from 'clipanion';
import { ClientCommand } from '../client/client-command.js';

export class CancelCommand extends ClientCommand {
  static override paths = [['cancel']];

  static override usage = Command.Usage({
    category: 'Builds',
    description: 'cancel a submission',
    details: `
      Dequeues the submission's jobs and stops the running ones. A job that another live
      submission also needs keeps running; those are listed with the reason.
    `,
    examples: [
      ['Cancel a submission', '$0 cancel 01J9Z6Q4T3M8N5K2'],
      ['Machine-readable', '$0 cancel --json 01J9Z6Q4T3M8N5K2'],
    ],
  });

  json = Option.Boolean('--json', false, { description: 'print the answer as JSON' });
  submission = Option.String({ name: 'submission', required: true });

  override async execute(): Promise<number> {
    return this.withClient(async (client) => {
      const { cancelSubmission } = await import('../client/cancel-view.js');
      return cancelSubmission(client, { submission: this.submission, json: this.json, stdout: this.context.stdout });
    });
  }
}
