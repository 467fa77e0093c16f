/**
 * `farm submit` as a real process on examples/dag (evaluated by the real Nix) against the stub
 * coordinator: exactly the missing `.drv` files are uploaded, dependencies first; Watch events
 * are rendered one line per change; every root's outputs are printed and the exit status is 0 —
 * or 1 with each failed derivation named with its reason (and the failed input for dependency
 * failures); --json gives JSON lines only; -L streams build logs; --no-wait returns the id; a
 * broken Watch stream is resumed; no coordinator reachable is a clear error.
 */
import { before, test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn, spawnSync } from 'node:child_process';
import { join } from 'node:path';
import type { SubmissionEvent } from '@farm/proto';
import { freeLoopbackPort, startStubCoordinator, type StubBehaviour, type StubCoordinator } from './fixtures/stub-coordinator.js';
import { farmBin, repoRoot, runFarm } from './fixtures/stub-coordinator-run.js';

const dagDir = join(repoRoot, 'examples', 'dag');
const names = ['greeting', 'left', 'right', 'top'] as const;
type Name = (typeof names)[number];
const drvs = {} as Record<Name, string>;
const outs = {} as Record<Name, string>;
const refs = new Map<string, string[]>();

before(() => {
  const inst = spawnSync('nix-instantiate', ['default.nix', '-A', 'all'], { cwd: dagDir, encoding: 'utf8' });
  assert.equal(inst.status, 0, inst.stderr);
  for (const p of inst.stdout.split('\n').filter((l) => l !== '')) {
    const name = names.find((n) => p.endsWith(`-${n}.drv`));
    assert.ok(name, p);
    drvs[name] = p;
    const o = spawnSync('nix-store', ['-q', '--outputs', p], { encoding: 'utf8' });
    outs[name] = o.stdout.trim();
    const r = spawnSync('nix-store', ['-q', '--references', p], { encoding: 'utf8' });
    refs.set(p, r.stdout.split('\n').filter((l) => l !== ''));
  }
  assert.equal(Object.keys(drvs).length, 4);
});

const jobId = (drvPath: string) => drvPath.slice('/nix/store/'.length, '/nix/store/'.length + 32);

function success(name: Name, agent = 'agent-1'): SubmissionEvent[] {
  const d = drvs[name];
  return [
    { jobId: jobId(d), drvPath: d, state: 'JOB_STATE_READY' },
    { jobId: jobId(d), drvPath: d, state: 'JOB_STATE_RUNNING', agentId: agent },
    { jobId: jobId(d), drvPath: d, state: 'JOB_STATE_SUCCEEDED', agentId: agent, outputs: { out: outs[name] } },
  ];
}

const allSucceed = (): SubmissionEvent[] => [...names.flatMap((n) => success(n)), { final: true, reason: '4 succeeded' }];

async function withStub<T>(behaviour: StubBehaviour, body: (stub: StubCoordinator) => Promise<T>): Promise<T> {
  const stub = await startStubCoordinator(behaviour);
  try {
    return await body(stub);
  } finally {
    await stub.close();
  }
}

const submit = (stub: StubCoordinator, ...args: string[]) => runFarm(['submit', '--coordinator', stub.address, ...args], { cwd: dagDir });

test('uploads exactly the missing .drv files in dependency order, follows Watch, prints the outputs, exits 0', async () => {
  await withStub({ present: [drvs.greeting], events: allSucceed, submit: () => ({ submissionId: 'sub-1', jobsTotal: 4, alreadyValid: 0, shared: 0 }) }, async (stub) => {
    const r = await submit(stub, '-f', 'default.nix', '-A', 'all');
    assert.equal(r.status, 0, r.stderr);

    // QueryMissing saw the whole closure; only the three missing drvs were sent, each after its references.
    assert.deepEqual(new Set(stub.queried.flat()), new Set(Object.values(drvs)));
    const sent = stub.uploads.map((u) => u.header.info!.path);
    assert.deepEqual(new Set(sent), new Set([drvs.left, drvs.right, drvs.top]));
    assert.equal(sent.at(-1), drvs.top);
    for (const u of stub.uploads) {
      const info = u.header.info!;
      assert.deepEqual([...info.references].sort(), [...(refs.get(info.path) ?? [])].sort());
      assert.equal(u.header.lease, null, 'client uploads carry no lease');
    }

    const sub = stub.submits[0]!;
    assert.deepEqual(new Set(sub.roots.map((x) => x.drvPath)), new Set(Object.values(drvs)));
    assert.deepEqual(new Set(sub.roots.map((x) => x.attrPath)), new Set(names.map((n) => `all.${n}`)));
    assert.match(sub.client, /^.+@.+$/);

    assert.deepEqual(r.stdout.trim().split('\n').sort(), names.map((n) => `all.${n} -> ${outs[n]}`).sort());
    assert.match(r.stderr, /farm: submitted sub-1: 4 to build/);
    assert.match(r.stderr, /running +greeting on agent-1/);
    assert.match(r.stderr, /built +top in \d+:\d\d on agent-1/);
    assert.match(r.stderr, /4\/4 built · 0 running · 0 queued · 0 failed · 0 already valid/);
    assert.doesNotMatch(r.stderr, /\x1b\[/, 'no terminal escapes on a pipe');
  });
});

test('a failed build: exit 1, the failed drv named with its reason, the dependent with the input that failed', async () => {
  const events = (): SubmissionEvent[] => [
    ...success('greeting'),
    ...success('right'),
    { jobId: jobId(drvs.left), drvPath: drvs.left, state: 'JOB_STATE_RUNNING', agentId: 'agent-2' },
    { jobId: jobId(drvs.left), drvPath: drvs.left, state: 'JOB_STATE_FAILED', agentId: 'agent-2', reason: 'builder for left failed with exit code 1\nlast log lines' },
    { jobId: jobId(drvs.top), drvPath: drvs.top, state: 'JOB_STATE_DEPENDENCY_FAILED', reason: `dependency failed: ${drvs.left}` },
    { final: true, reason: '2 succeeded, 2 failed' },
  ];
  await withStub({ events }, async (stub) => {
    const r = await submit(stub, '-f', 'default.nix', '-A', 'all');
    assert.equal(r.status, 1, r.stderr);
    assert.ok(r.stderr.includes(`${drvs.left}: builder for left failed with exit code 1`), r.stderr);
    assert.ok(r.stderr.includes(`${drvs.top}: dependency failed: input ${drvs.left} failed`), r.stderr);
    assert.match(r.stderr, /error: 2 derivations failed/);
    assert.deepEqual(r.stdout.trim().split('\n').sort(), [`all.greeting -> ${outs.greeting}`, `all.right -> ${outs.right}`].sort());
    // Everything was uploaded: the stub held nothing.
    assert.equal(stub.uploads.length, 4);
  });
});

test('--json: only JSON lines on stdout, one per event, ending with the summary', async () => {
  await withStub({ events: allSucceed, logs: (req) => [{ jobId: req.jobId, epoch: 1, seq: 0, data: Buffer.from('building\n'), eof: true }] }, async (stub) => {
    const r = await submit(stub, '--json', '-L', '.#all');
    assert.equal(r.status, 0, r.stderr);
    const lines = r.stdout.trim().split('\n').map((l) => JSON.parse(l) as Record<string, unknown>);
    const types = lines.map((l) => l['type']);
    for (const t of ['evaluated', 'bundle', 'upload-plan', 'uploaded', 'submitted', 'job', 'log', 'final', 'summary']) assert.ok(types.includes(t), `${t} in ${types.join(',')}`);
    assert.equal(types.at(-1), 'summary');
    assert.equal(lines.filter((l) => l['type'] === 'job').length, 12);
    assert.equal(lines.filter((l) => l['type'] === 'uploaded').length, 4);
    const summary = lines.at(-1)!;
    assert.equal(summary['ok'], true);
    const outputs = summary['outputs'] as { label: string; path: string }[];
    assert.deepEqual(outputs.map((o) => `${o.label} ${o.path}`).sort(), names.map((n) => `all.${n} ${outs[n]}`).sort());
    const logLines = lines.filter((l) => l['type'] === 'log');
    assert.deepEqual(new Set(logLines.map((l) => l['name'])), new Set(names));
    assert.ok(logLines.every((l) => l['line'] === 'building'));
    assert.equal(r.stderr, '');
  });
});

test('-L prints each build log line prefixed with the derivation name; a job waiting for capacity shows why', async () => {
  const events = (): SubmissionEvent[] => [
    { jobId: jobId(drvs.greeting), drvPath: drvs.greeting, state: 'JOB_STATE_READY', reason: 'waiting for capacity: no agent has system aarch64-linux' },
    ...names.flatMap((n) => success(n)),
    { final: true, reason: '4 succeeded' },
  ];
  const logs = (req: { jobId: string }) => {
    const name = names.find((n) => jobId(drvs[n]) === req.jobId)!;
    return [
      { jobId: req.jobId, epoch: 1, seq: 0, data: Buffer.from(`hello from ${name}\npart`) },
      { jobId: req.jobId, epoch: 1, seq: 1, data: Buffer.from('ial line'), eof: true },
    ];
  };
  await withStub({ events, logs, eventDelayMs: 5 }, async (stub) => {
    const r = await submit(stub, '-L', './#all');
    assert.equal(r.status, 0, r.stderr);
    for (const n of names) {
      assert.ok(r.stderr.includes(`${n}> hello from ${n}\n`), r.stderr);
      assert.ok(r.stderr.includes(`${n}> partial line\n`), r.stderr);
    }
    assert.match(r.stderr, /queued +greeting: waiting: waiting for capacity: no agent has system aarch64-linux/);
    assert.equal(stub.logRequests.length, 4);
    assert.ok(stub.logRequests.every((q) => q.follow));
  });
});

test('--no-wait prints the submission id and does not watch; flags reach Submit', async () => {
  await withStub({ events: allSucceed }, async (stub) => {
    const r = await submit(stub, '--no-wait', '--priority', '7', '--timeout', '1h30m', '--max-silent-time', '90', path('top'));
    assert.equal(r.status, 0, r.stderr);
    assert.equal(r.stdout, 'sub-1\n');
    assert.equal(stub.watches.length, 0);
    const s = stub.submits[0]!;
    assert.equal(s.priority, 7);
    assert.equal(s.timeoutMs, String(5_400_000));
    assert.equal(s.maxSilentMs, String(90_000));
    assert.deepEqual(s.roots.map((x) => [x.drvPath, x.attrPath]), [[drvs.top, 'top']]);
  });
});

function path(name: Name): string {
  return drvs[name];
}

test('a .drv installable is reported by its path; a Watch stream that breaks is resumed from the next sequence', async () => {
  await withStub({ events: () => [...success('top'), { final: true, reason: '1 succeeded' }], dropWatchAfter: 2 }, async (stub) => {
    const r = await submit(stub, drvs.top);
    assert.equal(r.status, 0, r.stderr);
    assert.equal(r.stdout, `${drvs.top} -> ${outs.top}\n`);
    assert.deepEqual(stub.watches.map((w) => w.fromSequence), ['0', '3']);
    assert.match(r.stderr, /reconnecting/);
    assert.equal(r.stderr.match(/running +top/g)?.length, 1, 'no event shown twice');
  });
});

test('no coordinator reachable: a clear UNAVAILABLE message naming the address, exit 1, before evaluating', async () => {
  const port = await freeLoopbackPort();
  const r = await runFarm(['submit', '.#all'], { cwd: dagDir, env: { FARM_COORDINATOR: `127.0.0.1:${port}` } });
  assert.equal(r.status, 1);
  assert.match(r.stderr, new RegExp(`^farm submit: the farm coordinator at 127\\.0\\.0\\.1:${port} \\(from FARM_COORDINATOR\\) is unreachable`));
  assert.doesNotMatch(r.stderr, /evaluating/);
  const none = await runFarm(['submit', '.#all'], { cwd: dagDir });
  assert.equal(none.status, 1);
  assert.match(none.stderr, /no farm found: start one with `farm up` or pass --coordinator/);
});

test('bad arguments are refused before anything is contacted', async () => {
  for (const [args, message] of [
    [['--timeout', 'soon', '.#all'], /--timeout: 'soon' is not a duration/],
    [['--priority', 'high', '.#all'], /--priority: 'high' is not an integer/],
    [['--no-wait', '--copy-back', '.#all'], /--no-wait cannot be combined/],
    [[], /nothing to build/],
  ] as const) {
    const r = await runFarm(['submit', '--coordinator', '127.0.0.1:1', ...args], { cwd: dagDir });
    assert.equal(r.status, 1, args.join(' '));
    assert.match(r.stderr, message);
  }
});

test('Ctrl-C while watching: exit 130 and a hint that the submission goes on and how to cancel it', async () => {
  await withStub({ events: allSucceed, eventDelayMs: 3_000 }, async (stub) => {
    const child = spawn(farmBin, ['submit', '--coordinator', stub.address, drvs.greeting], { cwd: dagDir, stdio: ['ignore', 'pipe', 'pipe'] });
    let stderr = '';
    const exited = new Promise<number | null>((resolve) => child.on('close', (code) => resolve(code)));
    try {
      await new Promise<void>((resolve, reject) => {
        child.stderr.on('data', (d: Buffer) => {
          stderr += d.toString();
          if (stderr.includes('farm: submitted sub-1')) resolve();
        });
        child.on('close', () => reject(new Error(`exited early: ${stderr}`)));
      });
      child.kill('SIGINT');
      assert.equal(await exited, 130);
      assert.match(stderr, /stopped watching; sub-1 goes on on the farm \(`farm cancel sub-1` stops it\)/);
    } finally {
      child.kill('SIGKILL');
    }
  });
});
