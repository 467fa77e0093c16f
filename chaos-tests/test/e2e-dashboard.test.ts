/**
 * The dashboard end to end, as an operator sees it: `farm up` (one agent building in bubblewrap),
 * Debian's Chromium driven headless by playwright-core, and the real CLI submitting a two-node
 * DAG (fixtures/dashboard.nix). The page, loaded before anything is submitted, must show:
 * - the submission appearing and running (its progress bar), with its running job;
 * - that job's log live: a marker line the builder prints only after the test creates a file
 *   (bound into the sandbox) — i.e. after the page loaded and the log was opened;
 * - the submission succeeding, its jobs (state, system, agent) when expanded, the agent with its
 *   capabilities and load, an empty queue;
 * and it must do so with no console errors or warnings, no uncaught exceptions, no failed
 * requests and no request to anything but the farm's ops endpoint. A screenshot is kept in
 * test-artifacts/dashboard.png.
 */
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { basename, join } from 'node:path';
import { chromium, type Browser, type Page } from 'playwright-core';
import { makeTempDir, REPO_ROOT, runFarm, startFarmUp, type FarmUp, type TempDir } from '@farm/testkit';

const FIXTURE = join(REPO_ROOT, 'chaos-tests', 'test', 'fixtures', 'dashboard.nix');
const ARTIFACTS = join(REPO_ROOT, 'test-artifacts');
/** Whatever happens, one wait in the browser gives up after this long. */
const WAIT_MS = 30_000;

let tmp: TempDir;
let farm: FarmUp | undefined;
let browser: Browser | undefined;
let markerDir = '';
let opsUrl = '';

before(async () => {
  tmp = await makeTempDir('farm-dashboard-');
  markerDir = join(tmp.path, 'marker');
  mkdirSync(markerDir);
  const sandbox = ['/bin', '/usr', '/lib', '/lib64?', `/dash-marker=${markerDir}`].flatMap((p) => ['--sandbox-path', p]);
  farm = await startFarmUp({ stateDir: join(tmp.path, 'state'), args: ['--agents', '1', '--emulation', 'off', ...sandbox] });
  const address = JSON.parse(readFileSync(join(farm.stateDir, 'address.json'), 'utf8')) as { ops?: string };
  assert.ok(address.ops !== undefined, 'farm up serves the ops endpoint by default');
  opsUrl = address.ops;
  browser = await chromium.launch({ executablePath: '/usr/bin/chromium', args: ['--no-sandbox', '--disable-gpu', '--disable-background-networking', '--disable-component-update', '--disable-sync', '--no-first-run'] });
});

after(async () => {
  // The browser first: its event streams would otherwise see the farm go away.
  await browser?.close().catch(() => undefined);
  const code = await farm?.stop();
  await tmp?.remove();
  assert.equal(code, 0, 'farm up stops cleanly');
});

/** What the page did that it should not have: console errors/warnings, exceptions, failed or foreign requests. */
function watchPage(page: Page, origin: string): string[] {
  const problems: string[] = [];
  page.on('console', (m) => {
    if (m.type() === 'error' || m.type() === 'warning') problems.push(`console ${m.type()}: ${m.text()} (${m.location().url})`);
  });
  page.on('pageerror', (e) => problems.push(`uncaught: ${e.message}`));
  page.on('request', (r) => {
    const url = r.url();
    if (!url.startsWith(`${origin}/`) && !url.startsWith('data:')) problems.push(`request outside the farm: ${url}`);
  });
  page.on('requestfailed', (r) => {
    // An event stream the page closed itself (a finished log) may be reported as aborted.
    if (r.failure()?.errorText === 'net::ERR_ABORTED' && /\/api\/(events|jobs\/[^/]+\/log)$/.test(new URL(r.url()).pathname)) return;
    problems.push(`request failed: ${r.url()} (${r.failure()?.errorText ?? '?'})`);
  });
  page.on('response', (r) => {
    if (r.status() >= 400) problems.push(`HTTP ${r.status()}: ${r.url()}`);
  });
  return problems;
}

function instantiate(attr: string, args: readonly string[]): string {
  const root = join(tmp.path, `gc-${attr}`);
  const out = execFileSync('nix-instantiate', [FIXTURE, '-A', attr, ...args, '--add-root', root, '--indirect'], { encoding: 'utf8' }).trim();
  return execFileSync('readlink', ['-f', out], { encoding: 'utf8' }).trim();
}

test('the dashboard shows a running submission, its live log and its success', { timeout: 180_000 }, async () => {
  const page = await browser!.newPage({ viewport: { width: 1400, height: 1000 } });
  page.setDefaultTimeout(WAIT_MS);
  const origin = new URL(opsUrl).origin;
  const problems = watchPage(page, origin);

  await page.goto(`${opsUrl}/`);
  await page.locator('#connection[data-state="live"]').waitFor();
  await page.getByRole('heading', { name: 'Agents' }).waitFor();
  const agent = farm!.agents[0]!;
  await page.locator(`#agents tr[data-agent="${agent}"]`).waitFor();

  // Submitted only now, after the page loaded.
  const tag = `t${Date.now().toString(36)}`;
  const args = ['--argstr', 'salt', `dash-${tag}`, '--argstr', 'tag', tag];
  const top = instantiate('top', args);
  const dep = instantiate('dep', args);
  const topJob = basename(top).slice(0, 32);
  const run = await runFarm(['submit', '--no-wait', '--json', top], { env: { FARM_STATE_DIR: farm!.stateDir, FARM_COORDINATOR: '' }, timeoutMs: 60_000 });
  assert.equal(run.code, 0, `farm submit:\n${run.stderr}`);
  const submitted = run.stdout.split('\n').filter((l) => l.includes('"submitted"')).map((l) => JSON.parse(l) as { submissionId: string })[0];
  assert.ok(submitted !== undefined, run.stdout);
  const id = submitted.submissionId;

  // The running submission, and its running job.
  const row = page.locator(`#submissions tr[data-submission-id="${id}"]`);
  await row.and(page.locator('[data-outcome="running"]')).waitFor();
  await page.locator(`#running tr[data-job-id="${topJob}"]`).waitFor();
  assert.match(await row.getByRole('progressbar').getAttribute('aria-valuetext') ?? '', /of 2 succeeded/);

  // Its log, live: the first line, then — only once we let the builder go — the marker.
  await page.locator(`#running tr[data-job-id="${topJob}"] button[data-action="log"]`).click();
  const log = page.locator('#log');
  await page.locator(`#log[data-job-id="${topJob}"]`).waitFor();
  await log.filter({ hasText: 'top started' }).waitFor();
  assert.doesNotMatch(await log.innerText(), new RegExp(`DASHBOARD-MARKER-${tag}`), 'the marker is not printed before the go file exists');
  writeFileSync(join(markerDir, `go-${tag}`), '');
  await log.filter({ hasText: `DASHBOARD-MARKER-${tag}` }).waitFor();
  await page.locator('#log-status[data-state="complete"]').waitFor();

  // The submission succeeds; expanded, it lists both jobs with state, system and agent.
  await row.and(page.locator('[data-outcome="succeeded"]')).waitFor();
  assert.match(await row.getByRole('progressbar').getAttribute('aria-valuetext') ?? '', /^2 of 2 succeeded$/);
  await row.getByRole('button', { name: 'Show jobs' }).click();
  const jobs = page.locator(`#jobs-${id} table.jobs tbody tr`);
  await jobs.nth(1).waitFor();
  assert.equal(await jobs.count(), 2);
  const system = execFileSync('nix-instantiate', ['--eval', '--expr', 'builtins.currentSystem'], { encoding: 'utf8' }).trim().replace(/"/g, '');
  for (const drv of [dep, top]) {
    const cells = await jobs.and(page.locator(`[data-job-id="${basename(drv).slice(0, 32)}"]`)).locator('td').allInnerTexts();
    assert.deepEqual(cells.slice(0, 3), ['succeeded', system, agent], `${drv}: state, system, agent`);
  }
  await page.getByText('The queue is empty.').waitFor();
  await page.getByText('Nothing is building.').waitFor();
  const agentCells = await page.locator(`#agents tr[data-agent="${agent}"] td`).allInnerTexts();
  assert.ok(agentCells.some((c) => c.includes(system)), `the agent's systems: ${agentCells.join(' | ')}`);

  mkdirSync(ARTIFACTS, { recursive: true });
  await page.screenshot({ path: join(ARTIFACTS, 'dashboard.png'), fullPage: true });
  await page.close();
  assert.deepEqual(problems, [], 'no console errors or warnings, no failed or foreign requests');
});
