/**
 * The overview as DOM: submissions (progress bar per DAG, jobs when expanded), running jobs, the
 * queue with reasons and the agents. Pure functions of the data: buttons carry `data-action` and
 * their target, and app.ts handles clicks by delegation, so re-rendering needs no rebinding.
 */
import type { DashboardAgent, DashboardJob, DashboardOverview, DashboardProgress, DashboardQueuedJob, DashboardSubmission, DashboardSubmissionJobs } from '../../src/adapters/dashboard/api-types.js';
import { formatAgo, formatDuration, h, table, time } from './dom.js';

export interface SubmissionsState {
  /** Submissions whose jobs are shown. */
  readonly expanded: ReadonlySet<string>;
  /** Their job lists as last fetched. */
  readonly jobs: ReadonlyMap<string, DashboardSubmissionJobs>;
}

export function progressText(p: DashboardProgress): string {
  const parts = [`${p.succeeded} of ${p.total} succeeded`];
  if (p.failed > 0) parts.push(`${p.failed} failed`);
  if (p.running > 0) parts.push(`${p.running} running`);
  if (p.waiting > 0) parts.push(`${p.waiting} waiting`);
  return parts.join(', ');
}

/** A stacked bar (succeeded, failed, running, waiting) that is also an ARIA progressbar. */
function progressBar(p: DashboardProgress): HTMLElement {
  const finished = p.succeeded + p.failed;
  const bar = h('div', {
    class: 'bar',
    role: 'progressbar',
    'aria-valuemin': 0,
    'aria-valuemax': Math.max(p.total, 1),
    'aria-valuenow': finished,
    'aria-valuetext': progressText(p),
  });
  const total = Math.max(p.total, p.succeeded + p.failed + p.running + p.waiting, 1);
  for (const [cls, n] of [['succeeded', p.succeeded], ['failed', p.failed], ['running', p.running], ['waiting', p.waiting]] as const) {
    if (n === 0) continue;
    const seg = h('span', { class: `seg ${cls}` });
    // CSSOM, not a style attribute: the page's Content Security Policy allows no inline styles.
    seg.style.width = `${(100 * n) / total}%`;
    bar.appendChild(seg);
  }
  return bar;
}

function outcomeLabel(s: DashboardSubmission): HTMLElement {
  return h('span', { class: `badge ${s.outcome}` }, s.outcome);
}

function rootsText(roots: readonly string[]): string {
  const names = roots.map(drvBaseName);
  return names.length <= 2 ? names.join(', ') : `${names.slice(0, 2).join(', ')} and ${names.length - 2} more`;
}

function drvBaseName(path: string): string {
  return path.slice(path.lastIndexOf('/') + 1);
}

export function renderSubmissions(o: DashboardOverview, st: SubmissionsState): HTMLElement {
  if (o.submissions.length === 0) return h('p', {}, 'No submissions yet. Try `farm submit`.');
  const rows: HTMLTableRowElement[] = [];
  for (const s of o.submissions) {
    const open = st.expanded.has(s.id);
    rows.push(
      h(
        'tr',
        { 'data-submission-id': s.id, 'data-outcome': s.outcome },
        h('th', { scope: 'row' }, h('code', {}, s.id)),
        h('td', {}, s.client || '—'),
        h('td', {}, time(s.createdMs, formatAgo(s.createdMs, o.nowMs))),
        h('td', { class: 'roots', title: s.roots.join('\n') }, rootsText(s.roots)),
        h('td', { class: 'progress' }, progressBar(s.progress), h('span', { class: 'progress-text' }, progressText(s.progress))),
        h('td', {}, outcomeLabel(s)),
        h('td', {}, s.traceUrl === undefined ? '—' : h('a', { href: s.traceUrl, target: '_blank', rel: 'noopener noreferrer' }, 'trace')),
        h(
          'td',
          {},
          h(
            'button',
            { type: 'button', 'data-action': 'toggle', 'data-submission': s.id, 'data-key': `toggle:${s.id}`, 'aria-expanded': String(open), 'aria-controls': `jobs-${s.id}` },
            open ? 'Hide jobs' : 'Show jobs',
          ),
        ),
      ),
    );
    if (open) {
      const detail = st.jobs.get(s.id);
      rows.push(h('tr', { class: 'jobs-row', id: `jobs-${s.id}` }, h('td', { colspan: 8 }, detail === undefined ? h('p', {}, 'Loading jobs…') : renderJobs(detail, o.nowMs))));
    }
  }
  const more = o.submissionsTotal > o.submissions.length ? h('p', {}, `${o.submissionsTotal - o.submissions.length} older submissions are not shown.`) : null;
  const t = table('Submissions, most recent first', ['Submission', 'Client', 'Created', 'Roots', 'Progress', 'State', 'Trace', 'Jobs'], rows, { class: 'submissions' });
  const wrap = h('div', {}, t);
  if (more !== null) wrap.appendChild(more);
  return wrap;
}

function logButton(j: { jobId: string; name: string }): HTMLButtonElement {
  return h('button', { type: 'button', 'data-action': 'log', 'data-job': j.jobId, 'data-name': j.name, 'data-key': `log:${j.jobId}` }, 'Log');
}

function renderJobs(d: DashboardSubmissionJobs, nowMs: number): HTMLElement {
  if (d.jobs.length === 0) return h('p', {}, 'No jobs to build (every output was already valid).');
  const rows = d.jobs.map((j) =>
    h(
      'tr',
      { 'data-job-id': j.jobId, 'data-state': j.state },
      h('th', { scope: 'row', title: j.drvPath }, j.name),
      h('td', {}, h('span', { class: `badge ${j.state}` }, j.state)),
      h('td', {}, j.system ?? ''),
      h('td', {}, j.agentId || '—'),
      h('td', {}, time(j.sinceMs, formatAgo(j.sinceMs, nowMs))),
      h('td', { class: 'reason' }, j.reason),
      h('td', {}, j.state === 'waiting' || j.state === 'ready' ? '' : logButton(j)),
    ),
  );
  const t = table(`Jobs of submission ${d.submission.id}`, ['Derivation', 'State', 'System', 'Agent', 'Since', 'Reason', 'Log'], rows, { class: 'jobs' });
  if (d.jobsTotal <= d.jobs.length) return t;
  return h('div', {}, t, h('p', {}, `${d.jobsTotal - d.jobs.length} more jobs are not shown.`));
}

export function renderRunning(o: DashboardOverview): HTMLElement {
  if (o.running.length === 0) return h('p', {}, 'Nothing is building.');
  const rows = o.running.map((j: DashboardJob) =>
    h(
      'tr',
      { 'data-job-id': j.jobId },
      h('th', { scope: 'row', title: j.drvPath }, j.name),
      h('td', {}, j.agentId || '—'),
      h('td', {}, time(j.sinceMs, formatDuration(o.nowMs - j.sinceMs))),
      h('td', {}, logButton(j)),
    ),
  );
  return table('Running jobs', ['Derivation', 'Agent', 'Running for', 'Log'], rows, { class: 'running' });
}

export function renderQueue(o: DashboardOverview): HTMLElement {
  if (o.queue.length === 0) return h('p', {}, 'The queue is empty.');
  const rows = o.queue.map((q: DashboardQueuedJob) =>
    h(
      'tr',
      { 'data-job-id': q.jobId, 'data-state': q.state },
      h('th', { scope: 'row', title: q.drvPath }, q.name),
      h('td', {}, h('span', { class: `badge ${q.state}` }, q.state)),
      h('td', {}, q.position > 0 ? String(q.position) : '—'),
      h('td', { class: 'reason' }, q.reason),
    ),
  );
  const t = table('Queued jobs, ready ones first, with why each is not running', ['Derivation', 'State', 'Position', 'Why it is not running (farm explain)'], rows, { class: 'queue' });
  if (o.queueTotal <= o.queue.length) return t;
  return h('div', {}, t, h('p', {}, `${o.queueTotal - o.queue.length} more queued jobs are not shown.`));
}

export function renderAgents(o: DashboardOverview): HTMLElement {
  if (o.agents.length === 0) return h('p', {}, 'No agent is connected.');
  const rows = o.agents.map((a: DashboardAgent) => {
    const features = [...a.supportedFeatures.map((f) => (a.mandatoryFeatures.includes(f) ? `${f}*` : f)), ...a.mandatoryFeatures.filter((f) => !a.supportedFeatures.includes(f)).map((f) => `${f}*`)];
    const load = h('meter', { min: 0, max: Math.max(a.maxJobs, 1), value: a.running, 'aria-label': `${a.running} of ${a.maxJobs} slots busy` });
    return h(
      'tr',
      { 'data-agent': a.name },
      h('th', { scope: 'row' }, a.name, a.draining ? h('span', { class: 'badge draining' }, 'draining') : null),
      h('td', {}, a.host),
      h('td', {}, a.systems.join(', ')),
      h('td', { class: 'features' }, features.join(', ') || '—'),
      h('td', {}, load, ` ${a.running} / ${a.maxJobs}`),
      h('td', {}, String(a.freeSlots)),
      h('td', {}, String(a.speedFactor)),
      h('td', {}, time(a.lastHeartbeatMs, formatAgo(a.lastHeartbeatMs, o.nowMs))),
    );
  });
  return table('Connected agents', ['Agent', 'Host', 'Systems', 'Features (* mandatory)', 'Running / slots', 'Free slots', 'Speed', 'Last heartbeat'], rows, { class: 'agents' });
}
