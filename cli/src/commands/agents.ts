/** `farm agents`: the connected agents and what they can build. */
import { Command, Option } from 'clipanion';
import type { ListAgentsResponse__Output } from '@farm/proto';
import { ClientCommand } from '../client/client-command.js';
import { formatAge } from '../client/durations.js';
import { renderTable } from '../client/table.js';

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
      const r = await client.listAgents();
      if (this.json) this.writeJson(agentsJson(r));
      else this.context.stdout.write(`${renderAgents(r, Date.now()).join('\n')}\n`);
      return 0;
    });
  }
}

export function agentsJson(r: ListAgentsResponse__Output): Record<string, unknown> {
  return {
    agents: r.agents.map((a) => ({
      agentId: a.agentId,
      host: a.host,
      capabilities: a.capabilities ?? { systems: [], supportedFeatures: [], mandatoryFeatures: [], maxJobs: 0, speedFactor: 0 },
      running: a.running,
      draining: a.draining,
      lastHeartbeatMs: Number(a.lastHeartbeatMs),
    })),
  };
}

export function renderAgents(r: ListAgentsResponse__Output, now: number): string[] {
  if (r.agents.length === 0) return ['no agents connected'];
  const rows = [...r.agents]
    .sort((a, b) => (a.agentId < b.agentId ? -1 : 1))
    .map((a) => {
      const c = a.capabilities;
      const mandatory = new Set(c?.mandatoryFeatures ?? []);
      const features = [...new Set([...(c?.supportedFeatures ?? []), ...mandatory])].sort().map((f) => (mandatory.has(f) ? `${f}*` : f));
      const beat = Number(a.lastHeartbeatMs);
      return [
        a.agentId + (a.draining ? ' (draining)' : ''),
        a.host,
        (c?.systems ?? []).join(','),
        features.length > 0 ? features.join(',') : '-',
        `${a.running}/${c?.maxJobs ?? 0}`,
        String(c?.speedFactor ?? 1),
        beat > 0 ? `${formatAge(now - beat)} ago` : '-',
      ];
    });
  const lines = renderTable(['AGENT', 'HOST', 'SYSTEMS', 'FEATURES', 'JOBS', 'SPEED', 'HEARTBEAT'], rows);
  if (r.agents.some((a) => (a.capabilities?.mandatoryFeatures.length ?? 0) > 0)) lines.push('', '* mandatory: the agent only takes jobs that require this feature');
  return lines;
}
