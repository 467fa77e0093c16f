/**
 * `farm agents`, run: ask the coordinator for its agents and print them as a table or JSON.
 * Loaded by commands/agents.ts when the command runs.
 */
import type { Writable } from 'node:stream';
import type { ListAgentsResponse__Output } from '@farm/proto';
import type { FarmClient } from './coordinator-client.js';
import { formatAge } from './durations.js';
import { renderTable } from './table.js';

export async function showAgents(client: FarmClient, options: { json: boolean; stdout: Writable }): Promise<number> {
  const r = await client.listAgents();
  if (options.json) options.stdout.write(`${JSON.stringify(agentsJson(r))}\n`);
  else options.stdout.write(`${renderAgents(r, Date.now()).join('\n')}\n`);
  return 0;
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
        (c?.systems ?? []).map((s) => (c?.emulated?.[s] !== undefined ? `${s} (${c.emulated[s]!.split(' ')[0]})` : s)).join(','),
        features.length > 0 ? features.join(',') : '-',
        `${a.running}/${c?.maxJobs ?? 0}`,
        String(c?.speedFactor ?? 1),
        beat > 0 ? `${formatAge(now - beat)} ago` : '-',
      ];
    });
  const lines = renderTable(['AGENT', 'HOST', 'SYSTEMS', 'FEATURES', 'JOBS', 'SPEED', 'HEARTBEAT'], rows);
  if (r.agents.some((a) => (a.capabilities?.mandatoryFeatures.length ?? 0) > 0)) lines.push('', '* mandatory: the agent only takes jobs that require this feature');
  const emulated = r.agents.flatMap((a) => Object.entries(a.capabilities?.emulated ?? {}).map(([system, how]) => `${a.agentId}: ${system} through ${how}`));
  if (emulated.length > 0) lines.push('', 'emulated systems (binfmt: the kernel runs them through qemu; qemu: the agent starts the builder under qemu):', ...emulated.sort().map((l) => `  ${l}`));
  return lines;
}
