/**
 * The dashboard page: subscribes to `api/events` (server-sent `overview` events: the farm now,
 * then on every change) and renders it; EventSource reconnects by itself and the connection
 * line says so. Expanded submissions fetch their job lists (`api/submissions/<id>`) again after
 * each update; a Log button opens that job's live log (log-view.ts).
 */
import type { DashboardOverview, DashboardSubmissionJobs } from '../../src/adapters/dashboard/api-types.js';
import { byId, replaceKeepingFocus } from './dom.js';
import { LogView } from './log-view.js';
import { renderAgents, renderQueue, renderRunning, renderSubmissions } from './render.js';

const expanded = new Set<string>();
const jobs = new Map<string, DashboardSubmissionJobs>();
/** Job-list fetches in flight, and those asked for again meanwhile. */
const fetching = new Set<string>();
const again = new Set<string>();
let overview: DashboardOverview | undefined;
const logView = new LogView();

function render(): void {
  if (overview === undefined) return;
  const o = overview;
  replaceKeepingFocus(byId('submissions'), renderSubmissions(o, { expanded, jobs }));
  replaceKeepingFocus(byId('running'), renderRunning(o));
  replaceKeepingFocus(byId('queue'), renderQueue(o));
  replaceKeepingFocus(byId('agents'), renderAgents(o));
  byId('version').textContent = `farm ${o.version} · ${o.submissionsTotal} submission${o.submissionsTotal === 1 ? '' : 's'} · ${o.agents.length} agent${o.agents.length === 1 ? '' : 's'}`;
}

async function fetchJobs(id: string): Promise<void> {
  if (fetching.has(id)) {
    again.add(id);
    return;
  }
  fetching.add(id);
  try {
    const res = await fetch(`api/submissions/${encodeURIComponent(id)}`, { headers: { accept: 'application/json' } });
    if (res.ok) jobs.set(id, (await res.json()) as DashboardSubmissionJobs);
  } catch {
    // The next update fetches again.
  } finally {
    fetching.delete(id);
  }
  if (expanded.has(id)) render();
  if (again.delete(id) && expanded.has(id)) await fetchJobs(id);
}

function setConnection(state: 'live' | 'connecting' | 'closed', text: string): void {
  const el = byId('connection');
  el.dataset['state'] = state;
  el.textContent = text;
}

function connect(): void {
  const events = new EventSource('api/events');
  events.addEventListener('open', () => setConnection('live', 'live'));
  events.addEventListener('overview', (e) => {
    overview = JSON.parse((e as MessageEvent<string>).data) as DashboardOverview;
    render();
    for (const id of expanded) void fetchJobs(id);
  });
  events.addEventListener('error', () => {
    if (events.readyState === EventSource.CLOSED) setConnection('closed', 'disconnected: reload the page to try again');
    else setConnection('connecting', 'reconnecting…');
  });
}

document.addEventListener('click', (e) => {
  const target = e.target instanceof Element ? e.target.closest<HTMLElement>('button[data-action]') : null;
  if (target === null) return;
  const action = target.dataset['action'];
  if (action === 'toggle') {
    const id = target.dataset['submission'] ?? '';
    if (expanded.has(id)) {
      expanded.delete(id);
      jobs.delete(id);
    } else {
      expanded.add(id);
      void fetchJobs(id);
    }
    render();
  } else if (action === 'log') {
    logView.open(target.dataset['job'] ?? '', target.dataset['name'] ?? '');
  }
});

connect();
