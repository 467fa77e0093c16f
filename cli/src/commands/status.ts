/**
 * `farm status [submission]`: the farm's jobs by state and its submissions; with a submission
 * id, that submission and each of its jobs with state, agent and reason.
 */
import { Command, Option } from 'clipanion';
import type { StatusResponse__Output } from '@farm/proto';
import { ClientCommand } from '../client/client-command.js';
import { formatAge } from '../client/durations.js';
import { renderTable } from '../client/table.js';
import { phaseOf } from '../progress/model.js';
import { firstLine } from '../progress/render.js';
import { derivationNameFromPath } from '@farm/nix';

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
      const r = await client.status(this.submission ?? '');
      if (this.json) this.writeJson(statusJson(r));
      else this.context.stdout.write(`${renderStatus(r, Date.now(), this.submission).join('\n')}\n`);
      return 0;
    });
  }
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
