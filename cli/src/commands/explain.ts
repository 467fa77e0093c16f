/**
 * `farm explain <drv-or-job>`: why a job is not running (the inputs it waits for, no agent that
 * fits and what the agents offer, busy agents and its place in the queue, a retry backoff) or,
 * for a running or finished job, why it went to its agent.
 */
import { Command, Option } from 'clipanion';
import { ClientCommand } from '../client/client-command.js';

export class ExplainCommand extends ClientCommand {
  static override paths = [['explain']];

  static override usage = Command.Usage({
    category: 'Builds',
    description: 'explain why a job is waiting, or why it runs where it does',
    details: `
      The argument is a derivation (\`/nix/store/…-name.drv\` or its base name) or a job id (the
      32-character hash part of the drv path, as \`farm status <submission>\` shows it).

      The first line says, in one sentence, why the job is where it is. A waiting job names the input derivations it waits for. A ready job that does not run says that no connected agent fits it (its system or required features) and what the connected agents offer, that it is backing off after an infrastructure failure (and until when), or that the agents that fit it are busy and its place in their queue. A running or finished job names the agent that got it and why (free slots, the best ready job it fits, inputs it already held, fair share between submissions).

      Then the job's facts, further details (failures, predicted build time and critical path,
      priority), the inputs it waits for and a table of the connected agents: systems, features
      (mandatory ones marked with \`*\`), busy/maximum slots and whether each fits the job.

      A job that finished before the coordinator last restarted is explained from its records:
      its final state, the agent, and each build attempt. A derivation that was never submitted,
      or whose outputs the farm already had, is reported as not found.
    `,
    examples: [
      ['Why is this derivation not building?', '$0 explain /nix/store/…-hello-2.12.drv'],
      ['The same, by job id', '$0 explain 0c5ch9zx8gqfnx5f8w2hfk3dzrz8v1yx'],
      ['Machine-readable', '$0 explain --json /nix/store/…-hello-2.12.drv'],
    ],
  });

  json = Option.Boolean('--json', false, { description: 'print the answer as one JSON object' });
  target = Option.String({ name: 'drv-or-job', required: true });

  override async execute(): Promise<number> {
    const { explainRequest, showExplanation } = await import('../client/explain-view.js');
    let request: ReturnType<typeof explainRequest>;
    try {
      // A malformed argument is reported as such, before any farm is looked for.
      request = explainRequest(this.target);
    } catch (e) {
      return this.fail(e);
    }
    return this.withClient((client) => showExplanation(client, { request, json: this.json, stdout: this.context.stdout }));
  }
}
