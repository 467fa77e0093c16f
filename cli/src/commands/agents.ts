/** `farm agents`: the connected agents and what they can build. */
import { Command, Option } from 'clipanion';
import { ClientCommand } from '../client/client-command.js';

export class AgentsCommand extends ClientCommand {
  static override paths = [['agents']];

  static override usage = Command.Usage({
    category: 'Farm',
    description: 'list the agents connected to the farm',
    details: `
      One row per agent: id, host, systems, features (mandatory ones marked with \`*\`: the agent
      only takes jobs that require them), running/maximum jobs, speed factor and the age of its
      last heartbeat. Draining agents (finishing their jobs, taking no new ones) are marked.
    `,
    examples: [
      ['List agents', '$0 agents'],
      ['Machine-readable', '$0 agents --json'],
    ],
  });

  json = Option.Boolean('--json', false, { description: 'print the answer as JSON' });

  override async execute(): Promise<number> {
    return this.withClient(async (client) => {
      const { showAgents } = await import('../client/agents-view.js');
      return showAgents(client, { json: this.json, stdout: this.context.stdout });
    });
  }
}
