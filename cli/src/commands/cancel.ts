/** `farm cancel <submission>`: stop a submission's jobs, and say what kept running and why. */
import { Command, Option } from 'clipanion';
import { derivationNameFromPath } from '@farm/nix';
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
      const r = await client.cancel(this.submission);
      if (this.json) {
        this.writeJson({ submissionId: this.submission, cancelled: r.cancelled, leftRunning: r.leftRunning });
        return 0;
      }
      const out: string[] = [];
      const left = Object.entries(r.leftRunning);
      out.push(`cancelled ${r.cancelled.length} derivation${r.cancelled.length === 1 ? '' : 's'} of ${this.submission}${r.cancelled.length > 0 ? ':' : ''}`);
      for (const d of [...r.cancelled].sort()) out.push(`  ${nameOf(d)}  ${d}`);
      if (left.length > 0) {
        out.push(`left running ${left.length}:`);
        for (const [d, why] of left.sort(([a], [b]) => (a < b ? -1 : 1))) out.push(`  ${nameOf(d)}  ${d}: ${why}`);
      }
      this.context.stdout.write(`${out.join('\n')}\n`);
      return 0;
    });
  }
}

function nameOf(drvPath: string): string {
  try {
    return derivationNameFromPath(drvPath);
  } catch {
    return drvPath;
  }
}
