/**
 * The progress of a submission without any coordinator: Watch events → counts and the summary
 * line, one line per change for pipes, the rows of the live view (with a manual clock, so
 * elapsed times are exact), the in-place redraw escape sequences, and the final report with
 * its exit status.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { Writable } from 'node:stream';
import { ManualClock } from '@farm/common';
import type { SubmissionEvent__Output } from '@farm/proto';
import { ProgressModel } from '../src/progress/model.js';
import { changeLine, liveRows, summaryLine } from '../src/progress/render.js';
import { LiveView } from '../src/progress/live-view.js';
import { TtyReporter } from '../src/progress/tty-reporter.js';
import { buildReport, failedInputsOf, failureLines, outputLines } from '../src/progress/report.js';

const drv = (name: string, hash = name.padEnd(32, '0').slice(0, 32).replace(/[^0-9a-df-np-sv-z]/g, '1')) => `/nix/store/${hash}-${name}.drv`;
const D = { greeting: drv('greeting'), left: drv('left'), right: drv('right'), top: drv('top') };

let seq = 0;
function ev(drvPath: string, state: string, extra: Partial<SubmissionEvent__Output> = {}): SubmissionEvent__Output {
  seq++;
  return {
    sequence: String(seq),
    submissionId: 's1',
    jobId: drvPath.slice(11, 43),
    drvPath,
    state: state as SubmissionEvent__Output['state'],
    agentId: '',
    reason: '',
    timeMs: '0',
    outputs: {},
    final: false,
    ...extra,
  };
}

test('counts follow the events and always add up to the total', () => {
  const clock = new ManualClock(1_000);
  const m = new ProgressModel(clock);
  m.setPlan({ jobsTotal: 4, alreadyValid: 2, shared: 0 });
  assert.equal(summaryLine(m.counts()), '0/4 built · 0 running · 4 queued · 0 failed · 2 already valid');
  m.apply(ev(D.greeting, 'JOB_STATE_READY'));
  m.apply(ev(D.greeting, 'JOB_STATE_RUNNING', { agentId: 'a1' }));
  m.apply(ev(D.left, 'JOB_STATE_WAITING'));
  assert.equal(summaryLine(m.counts()), '0/4 built · 1 running · 3 queued · 0 failed · 2 already valid');
  m.apply(ev(D.greeting, 'JOB_STATE_SUCCEEDED', { outputs: { out: '/nix/store/x-greeting' } }));
  m.apply(ev(D.left, 'JOB_STATE_FAILED', { reason: 'builder exited with status 1\nlast lines…' }));
  m.apply(ev(D.top, 'JOB_STATE_DEPENDENCY_FAILED', { reason: `dependency failed: ${D.left}` }));
  const c = m.counts();
  assert.deepEqual(c, { total: 4, built: 1, running: 0, queued: 1, failed: 1, dependencyFailed: 1, cancelled: 0, alreadyValid: 2, shared: 0 });
  assert.equal(summaryLine(c), '1/4 built · 0 running · 1 queued · 1 failed · 1 dependency failed · 2 already valid');
});

test('replayed and older sequences are ignored; more jobs than planned raise the total', () => {
  const m = new ProgressModel(new ManualClock());
  m.setPlan({ jobsTotal: 1, alreadyValid: 0, shared: 0 });
  const first = ev(D.greeting, 'JOB_STATE_RUNNING', { agentId: 'a' });
  assert.ok(m.apply(first));
  assert.equal(m.apply(first), undefined);
  assert.equal(m.apply({ ...ev(D.greeting, 'JOB_STATE_READY'), sequence: '0' === first.sequence ? '1' : first.sequence }), undefined);
  m.apply(ev(D.left, 'JOB_STATE_READY'));
  assert.equal(m.counts().total, 2);
  assert.equal(m.sequence, BigInt(seq));
  const fin = m.apply({ ...ev('', 'JOB_STATE_UNSPECIFIED', { final: true, reason: '0 succeeded' }), jobId: '' });
  assert.equal(fin, undefined);
  assert.ok(m.finished);
  assert.equal(m.finalReason, '0 succeeded');
});

test('one line per change: queued, waiting with a reason, running on an agent, built in, failed with reason', () => {
  const clock = new ManualClock(10_000);
  const m = new ProgressModel(clock);
  const lines: string[] = [];
  const apply = (e: SubmissionEvent__Output) => {
    const ch = m.apply(e);
    const l = ch && changeLine(ch, clock.now());
    if (l !== undefined) lines.push(l);
  };
  apply(ev(D.greeting, 'JOB_STATE_WAITING'));
  apply(ev(D.greeting, 'JOB_STATE_READY'));
  apply(ev(D.greeting, 'JOB_STATE_READY', { reason: 'waiting for capacity: no agent has system aarch64-linux' }));
  apply(ev(D.greeting, 'JOB_STATE_RUNNING', { agentId: 'builder-1' }));
  clock.advance(12_000);
  apply(ev(D.greeting, 'JOB_STATE_SUCCEEDED', { agentId: 'builder-1' }));
  apply(ev(D.left, 'JOB_STATE_FAILED', { reason: 'builder for left failed with exit code 1\nmore' }));
  apply(ev(D.top, 'JOB_STATE_DEPENDENCY_FAILED', { reason: `dependency failed: ${D.left}` }));
  assert.deepEqual(lines, [
    'queued     greeting',
    'queued     greeting: waiting: waiting for capacity: no agent has system aarch64-linux',
    'running    greeting on builder-1  0:00',
    'built      greeting in 0:12 on builder-1',
    'failed     left: builder for left failed with exit code 1',
    `dep-failed top: dependency failed: ${D.left}`,
  ]);
});

test('the live view: running first with agent and elapsed time, then failures, waiting, recent builds; at most maxRows', () => {
  const clock = new ManualClock(0);
  const m = new ProgressModel(clock);
  m.setPlan({ jobsTotal: 6, alreadyValid: 1, shared: 0 });
  m.apply(ev(D.greeting, 'JOB_STATE_RUNNING', { agentId: 'a1' }));
  clock.advance(5_000);
  m.apply(ev(D.greeting, 'JOB_STATE_SUCCEEDED', { agentId: 'a1' }));
  m.apply(ev(D.left, 'JOB_STATE_RUNNING', { agentId: 'a1' }));
  clock.advance(2_000);
  m.apply(ev(D.right, 'JOB_STATE_RUNNING', { agentId: 'a2' }));
  m.apply(ev(drv('cross'), 'JOB_STATE_READY', { reason: 'waiting for capacity: no agent has system aarch64-linux' }));
  m.apply(ev(drv('broken'), 'JOB_STATE_FAILED', { reason: 'exit 2' }));
  clock.advance(61_000);
  const rows = liveRows(m, { now: clock.now(), width: 200, maxRows: 12 });
  assert.deepEqual(rows, [
    'running    left      on a1  1:03',
    'running    right     on a2  1:01',
    'failed     broken    exit 2',
    'queued     cross     waiting: waiting for capacity: no agent has system aarch64-linux',
    'built      greeting  in 0:05 on a1',
    '1/6 built · 2 running · 2 queued · 1 failed · 1 already valid',
  ]);
  const small = liveRows(m, { now: clock.now(), width: 30, maxRows: 1 });
  assert.deepEqual(small, ['… and 2 more running', '1/6 built · 2 running · 2 qu…']);
  const two = liveRows(m, { now: clock.now(), width: 200, maxRows: 3 });
  assert.equal(two.length, 4);
  assert.match(two[2]!, /^failed +broken/);
});

test('the live view redraws in place: cursor up over the old block, clear, new block; text scrolls above', async () => {
  const written: string[] = [];
  const out = new Writable({
    write(chunk, _enc, cb) {
      written.push(String(chunk));
      cb();
    },
  });
  let lines = ['a', 'b'];
  const view = new LiveView(out, { render: () => lines, tickMs: 0 });
  view.redraw();
  lines = ['c'];
  view.redraw();
  view.printAbove('log line\n');
  view.close(['done']);
  view.invalidate();
  await new Promise((r) => setTimeout(r, 150));
  assert.deepEqual(written, ['a\nb\n', '\r\x1b[2A\x1b[Jc\n', '\r\x1b[1A\x1b[Jlog line\n', 'c\n', '\r\x1b[1A\x1b[Jdone\n']);
});

test('the final report: outputs of roots that did not fail, failures with reasons and failed inputs, exit status', () => {
  const m = new ProgressModel(new ManualClock());
  const graph = new Map([
    [D.greeting, []],
    [D.left, [D.greeting]],
    [D.right, [D.greeting]],
    [D.top, [D.left, D.right]],
  ]);
  m.apply(ev(D.greeting, 'JOB_STATE_SUCCEEDED'));
  m.apply(ev(D.right, 'JOB_STATE_SUCCEEDED'));
  m.apply(ev(D.left, 'JOB_STATE_FAILED', { reason: 'builder failed with exit code 1\n> tail' }));
  m.apply(ev(D.top, 'JOB_STATE_DEPENDENCY_FAILED', { reason: '' }));
  const roots = [
    { label: 'all.greeting', drvPath: D.greeting, outputs: { out: '/nix/store/g-greeting' } },
    { label: 'all.right', drvPath: D.right, outputs: { out: '/nix/store/r-right', dev: '/nix/store/r-right-dev' } },
    { label: 'all.top', drvPath: D.top, outputs: { out: '/nix/store/t-top' } },
  ];
  const report = buildReport(roots, m, graph);
  assert.equal(report.exitCode, 1);
  assert.equal(report.ok, false);
  assert.deepEqual(outputLines(report.outputs), ['all.greeting -> /nix/store/g-greeting', 'all.right^out -> /nix/store/r-right', 'all.right^dev -> /nix/store/r-right-dev']);
  assert.deepEqual(failureLines(report.failures), [
    'error: 2 derivations failed:',
    `  ${D.left}: builder failed with exit code 1`,
    `  ${D.top}: dependency failed: input ${D.left} failed`,
  ]);

  const ok = new ProgressModel(new ManualClock());
  ok.apply(ev(D.greeting, 'JOB_STATE_ALREADY_VALID'));
  const good = buildReport([roots[0]!], ok, graph);
  assert.equal(good.exitCode, 0);
  assert.deepEqual(failureLines(good.failures), []);
});

test('failed inputs are the nearest ones that failed themselves, through dependency failures; the reason is the fallback', () => {
  const a = drv('a');
  const b = drv('b');
  const c = drv('c');
  const graph = new Map([
    [c, [b]],
    [b, [a]],
    [a, []],
  ]);
  const phases = new Map<string, 'failed' | 'dependency-failed'>([
    [a, 'failed'],
    [b, 'dependency-failed'],
    [c, 'dependency-failed'],
  ]);
  assert.deepEqual(failedInputsOf(c, graph, phases), [a]);
  assert.deepEqual(failedInputsOf(c, new Map(), phases, `dependency failed: ${a}`), [a]);
});

test('the terminal reporter draws on stderr only; stdout gets nothing but the outputs at the end', () => {
  const capture = () => {
    const chunks: string[] = [];
    const w = new Writable({
      write(chunk, _enc, cb) {
        chunks.push(String(chunk));
        cb();
      },
    });
    return { w: Object.assign(w, { isTTY: true, columns: 60 }), text: () => chunks.join('') };
  };
  const out = capture();
  const err = capture();
  const clock = new ManualClock(0);
  const model = new ProgressModel(clock);
  const r = new TtyReporter(out.w, err.w, model, clock, { tickMs: 0, minIntervalMs: 0 });
  r.step('evaluating .#all');
  model.setPlan({ jobsTotal: 1, alreadyValid: 0, shared: 0 });
  r.submitted('s1', { submissionId: 's1', jobsTotal: 1, alreadyValid: 0, shared: 0 });
  const running = ev(D.top, 'JOB_STATE_RUNNING', { agentId: 'a1' });
  r.event(running, model.apply(running));
  r.logLine({ jobId: 'j', drvPath: D.top, name: 'top' }, 'compiling');
  const done = ev(D.top, 'JOB_STATE_SUCCEEDED', { agentId: 'a1' });
  r.event(done, model.apply(done));
  r.finish(buildReport([{ label: 'top', drvPath: D.top, outputs: { out: '/nix/store/t-top' } }], model, new Map()), 's1');
  r.close();
  assert.equal(out.text(), 'top -> /nix/store/t-top\n');
  const e = err.text();
  assert.match(e, /farm: evaluating \.#all…/);
  assert.match(e, /\x1b\[\d+A\x1b\[J/);
  assert.match(e, /top> compiling\n/);
  assert.ok(e.endsWith('1/1 built · 0 running · 0 queued · 0 failed · 0 already valid\n'), JSON.stringify(e.slice(-200)));
  assert.match(e, /running +top +on a1 +0:00\n0\/1 built · 1 running · 0 queued · 0 failed · 0 already va…\n/, 'the block is cut to the terminal width');
});
