/**
 * `farm explain`, run: ask the coordinator why a job is where it is and print the answer — the
 * one-sentence summary first, then the job, the details, the inputs it waits for, the agents
 * (and whether each fits), its place in the queue and any retry backoff — or the answer as one
 * JSON object. Loaded by commands/explain.ts when the command runs.
 */
import type { Writable } from 'node:stream';
import { FarmError } from '@farm/common';
import { DEFAULT_STORE_DIR, isStorePath } from '@farm/nix';
import type { ExplainRequest, ExplainResponse__Output } from '@farm/proto';
import type { FarmClient } from './coordinator-client.js';
import { formatAge } from './durations.js';
import { stateLabel } from './status-view.js';
import { renderTable } from './table.js';

/** A job id: the 32-character nix32 hash part of a drv path. */
const JOB_ID = /^[0-9a-df-np-sv-z]{32}$/;

/**
 * The request for what the user typed: a bare hash part is a job id; a `.drv` store path (or its
 * base name) is a derivation. Anything else is refused here, before the farm is looked for.
 */
export function explainRequest(target: string): ExplainRequest {
  if (JOB_ID.test(target)) return { jobId: target };
  const drvPath = target.includes('/') ? target : `${DEFAULT_STORE_DIR}/${target}`;
  if (!drvPath.endsWith('.drv') || !isStorePath(drvPath)) {
    throw new FarmError(
      'INVALID_ARGUMENT',
      `'${target}' is neither a derivation (${DEFAULT_STORE_DIR}/…-name.drv) nor a job id (the 32-character hash part of a drv path)`,
    );
  }
  return { drvPath };
}

export async function showExplanation(client: FarmClient, options: { request: ExplainRequest; json: boolean; stdout: Writable }): Promise<number> {
  const r = await client.explain(options.request);
  if (options.json) options.stdout.write(`${JSON.stringify(explanationJson(r))}\n`);
  else options.stdout.write(`${renderExplanation(r, Date.now()).join('\n')}\n`);
  return 0;
}

/** The response with its 64-bit integers as numbers (ms and epochs stay far below 2^53). */
export function explanationJson(r: ExplainResponse__Output): Record<string, unknown> {
  return {
    ...r,
    epoch: Number(r.epoch),
    backoffUntilMs: Number(r.backoffUntilMs),
    criticalPathMs: Number(r.criticalPathMs),
    estimateMs: Number(r.estimateMs),
  };
}

export function renderExplanation(r: ExplainResponse__Output, now: number): string[] {
  const out = [r.summary, ''];
  const facts: [string, string][] = [
    ['derivation', r.drvPath],
    ['job', r.jobId],
    ['state', `${stateLabel(r.state)} (attempts ${r.attempts}, epoch ${r.epoch})`],
  ];
  if (r.agentId !== '') facts.push(['agent', r.agentId]);
  if (r.position > 0) facts.push(['position', `${r.position} among the ready jobs its agents could take`]);
  const backoff = Number(r.backoffUntilMs);
  if (backoff > 0) facts.push(['backoff', `until ${new Date(backoff).toISOString()} (in ${formatAge(backoff - now)})`]);
  if (r.failedAgents.length > 0) facts.push(['failed on', r.failedAgents.join(', ')]);
  if (r.submissions.length > 0) facts.push(['submissions', r.submissions.join(', ')]);
  const width = Math.max(...facts.map(([k]) => k.length));
  for (const [k, v] of facts) out.push(`${k.padEnd(width)}  ${v}`);
  if (r.details.length > 0) {
    out.push('', 'details:');
    for (const d of r.details) out.push(`  - ${d}`);
  }
  if (r.waitingFor.length > 0) {
    out.push('', 'waiting for:');
    out.push(...indent(renderTable(['STATE', 'DERIVATION'], r.waitingFor.map((w) => [stateLabel(w.state), w.drvPath]))));
  }
  if (r.agents.length > 0) {
    out.push('', 'agents:');
    const rows = [...r.agents]
      .sort((a, b) => (a.agentId < b.agentId ? -1 : 1))
      .map((a) => {
        const mandatory = new Set(a.mandatoryFeatures);
        const features = [...new Set([...a.supportedFeatures, ...mandatory])].sort().map((f) => (mandatory.has(f) ? `${f}*` : f));
        return [
          a.agentId + (a.draining ? ' (draining)' : ''),
          a.systems.join(','),
          features.length > 0 ? features.join(',') : '-',
          `${a.running}/${a.maxJobs}`,
          a.fits ? 'yes' : 'no',
        ];
      });
    out.push(...indent(renderTable(['AGENT', 'SYSTEMS', 'FEATURES', 'BUSY', 'FITS'], rows)));
    if (r.agents.some((a) => a.mandatoryFeatures.length > 0)) out.push('  * mandatory: the agent only takes jobs that require this feature');
  }
  return out;
}

function indent(lines: readonly string[]): string[] {
  return lines.map((l) => `  ${l}`);
}
