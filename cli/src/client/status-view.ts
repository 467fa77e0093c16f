/**
 * `farm status`, run: ask the coordinator for the state of the farm (or of one submission) and
 * print it as tables or JSON. Loaded by commands/status.ts when the command runs.
 */
import type { Writable } from 'node:stream';
import { derivationNameFromPath } from '@farm/nix';
import type { StatusResponse__Output } from '@farm/proto';
import { phaseOf } from '../progress/model.js';
import { firstLine } from '../progress/render.js';
import type { FarmClient } from './coordinator-client.js';
import { formatAge } from './durations.js';
import { renderTable } from './table.js';

export async function showStatus(client: FarmClient, options: { submission: string | undefined; json: boolean; stdout: Writable }): Promise<number> {
  const r = await client.status(options.submission ?? '');
  if (options.json) options.stdout.write(`${JSON.stringify(statusJson(r))}\n`);
  else options.stdout.write(`${renderStatus(r, Date.now(), options.submission).join('\n')}\n`);
  return 0;
}

export function statusJson(r: StatusResponse__Output): Record<string, unknown> {
  return {
    jobsByState: r.jobsByState,
    submissions: r.submissions.map((s) => ({ ...s, createdMs: Number(s.createdMs) })),
    jobs: r.jobs.map((j) => ({ jobId: j.jobId, drvPath: j.drvPath, state: j.state, agentId: j.agentId, reason: j.reason, timeMs: Number(j.timeMs), outputs: j.outputs })),
  };
}

export function stateLabel(state: string): string {
  return state.replace(/^JOB_STATE_/, '').toLowerCase().replace(/_/g, ' ');
}

export function renderStatus(r: StatusResponse__Output, now: number, submission?: string): string[] {
  const out: string[] = [];
  const states = Object.entries(r.jobsByState).filter(([, n]) => n > 0);
  if (states.length > 0) {
    out.push(...renderTable(['STATE', 'JOBS'], states.map(([s, n]) => [stateLabel(s), String(n)])));
  } else {
    out.push('no jobs');
  }
  out.push('');
  if (r.submissions.length === 0) {
    out.push(submission !== undefined ? `no submission ${submission}` : 'no submissions');
  } else {
    const rows = [...r.submissions]
      .sort((a, b) => Number(b.createdMs) - Number(a.createdMs))
      .map((s) => [
        s.submissionId,
        s.client,
        formatAge(now - Number(s.createdMs)),
        `${s.succeeded}/${s.jobsTotal}`,
        String(s.failed),
        s.done ? 'done' : 'running',
        s.roots.map(nameOf).join(', '),
      ]);
    out.push(...renderTable(['SUBMISSION', 'CLIENT', 'AGE', 'DONE', 'FAILED', 'STATE', 'ROOTS'], rows));
  }
  if (submission !== undefined && r.jobs.length > 0) {
    out.push('');
    const order = ['running', 'failed', 'dependency-failed', 'queued', 'cancelled', 'done', 'already-valid'];
    const jobs = [...r.jobs].sort((a, b) => order.indexOf(phaseOf(a.state)) - order.indexOf(phaseOf(b.state)) || (a.drvPath < b.drvPath ? -1 : 1));
    out.push(...renderTable(['JOB', 'STATE', 'NAME', 'AGENT', 'REASON'], jobs.map((j) => [j.jobId, stateLabel(j.state), nameOf(j.drvPath), j.agentId || '-', firstLine(j.reason)])));
  }
  return out;
}

function nameOf(drvPath: string): string {
  try {
    return derivationNameFromPath(drvPath);
  } catch {
    return drvPath;
  }
}
