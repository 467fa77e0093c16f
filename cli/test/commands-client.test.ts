/**
 * `farm logs`, `farm status`, `farm agents`, `farm cancel` as real processes against the stub
 * coordinator: human tables and --json, log bytes in order with attempt separators and the
 * truncation note on stderr, NOT_FOUND as a clear message with exit 1, discovery through
 * address.json in --state-dir, and every command listed in `farm --help` with its own --help.
 */
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { FarmError } from '@farm/common';
import { writeAddressFile } from '../src/client/address.js';
import { startStubCoordinator, type StubCoordinator } from './fixtures/stub-coordinator.js';
import { runFarm } from './fixtures/stub-coordinator-run.js';

const JOB = '0c5ch9zx8gqfnx5f8w2hfk3dzrz8v1yx';
const DRV = `/nix/store/${JOB}-hello-2.12.drv`;
const OTHER = '/nix/store/1c5ch9zx8gqfnx5f8w2hfk3dzrz8v1yx-world-1.0.drv';
const now = Date.now();
let stub: StubCoordinator;
const stateDir = mkdtempSync(join(tmpdir(), 'farm-cmds-'));

before(async () => {
  stub = await startStubCoordinator({
    logs: (req) => {
      if (req.jobId !== JOB && req.drvPath !== DRV) return new FarmError('NOT_FOUND', `no job for ${req.jobId || req.drvPath}`);
      return [
        { jobId: JOB, epoch: 2, seq: 0, data: Buffer.from('first attempt\n') },
        { jobId: JOB, epoch: 2, seq: 1, data: Buffer.from(''), eof: true },
        { jobId: JOB, epoch: 4, seq: 0, data: Buffer.from('second ') },
        { jobId: JOB, epoch: 4, seq: 1, data: Buffer.from('attempt\nbinary:\u0000\u00ff'), truncated: true },
        { jobId: JOB, epoch: 4, seq: 2, data: Buffer.from(''), eof: true },
      ];
    },
    status: (id) =>
      id === '' || id === 'sub-7'
        ? {
            jobsByState: { JOB_STATE_RUNNING: 1, JOB_STATE_READY: 2, JOB_STATE_FAILED: 0 },
            submissions: [{ submissionId: 'sub-7', client: 'alice@laptop', createdMs: now - 300_000, jobsTotal: 3, succeeded: 1, failed: 0, done: false, roots: [DRV] }],
            jobs:
              id === ''
                ? []
                : [
                    { jobId: JOB, drvPath: DRV, state: 'JOB_STATE_RUNNING', agentId: 'builder-1' },
                    { jobId: 'x', drvPath: OTHER, state: 'JOB_STATE_READY', reason: 'waiting for capacity: no agent has system aarch64-linux' },
                  ],
          }
        : new FarmError('NOT_FOUND', `no submission ${id}`),
    agents: {
      agents: [
        {
          agentId: 'builder-1',
          host: 'host-a',
          capabilities: { systems: ['x86_64-linux', 'i686-linux'], supportedFeatures: ['big-parallel', 'kvm'], mandatoryFeatures: ['kvm'], maxJobs: 4, speedFactor: 2 },
          running: 1,
          draining: false,
          lastHeartbeatMs: now - 2_000,
        },
        { agentId: 'arm-1', host: 'pi', capabilities: { systems: ['aarch64-linux'], supportedFeatures: [], mandatoryFeatures: [], maxJobs: 1, speedFactor: 1 }, running: 0, draining: true, lastHeartbeatMs: now },
        {
          agentId: 'emu-1',
          host: 'host-a',
          capabilities: { systems: ['aarch64-linux'], supportedFeatures: [], mandatoryFeatures: [], maxJobs: 2, speedFactor: 1, emulated: { 'aarch64-linux': 'qemu (/usr/bin/qemu-aarch64-static)' } },
          running: 0,
          draining: false,
          lastHeartbeatMs: now,
        },
      ],
    },
    cancel: (id) => (id === 'sub-7' ? { cancelled: [OTHER], leftRunning: { [DRV]: 'needed by live submission sub-8' } } : new FarmError('NOT_FOUND', `no submission ${id}`)),
  });
  writeAddressFile(stateDir, { grpc: stub.address, nats: 'nats://127.0.0.1:1', pid: process.pid, startedAt: new Date(now).toISOString() });
});
after(async () => {
  await stub.close();
  rmSync(stateDir, { recursive: true, force: true });
});

/** A client command found through address.json in --state-dir. */
const farm = (command: string, ...args: string[]) => runFarm([command, '--state-dir', stateDir, ...args]);

test('farm logs: raw bytes in order on stdout, attempt separator and truncation note on stderr', async () => {
  const r = await farm('logs', DRV);
  assert.equal(r.status, 0, r.stderr);
  assert.equal(r.stdout, 'first attempt\nsecond attempt\nbinary:\u0000\u00ff');
  assert.match(r.stderr, /^--- attempt 2 ---\n/);
  assert.match(r.stderr, /truncated.*log limit/);
  assert.deepEqual(stub.logRequests.at(-1), { drvPath: DRV, jobId: '', follow: false });

  const byJob = await farm('logs', '-f', JOB);
  assert.equal(byJob.status, 0, byJob.stderr);
  assert.deepEqual(stub.logRequests.at(-1), { drvPath: '', jobId: JOB, follow: true });
  const byBase = await farm('logs', DRV.slice('/nix/store/'.length));
  assert.equal(byBase.status, 0, byBase.stderr);
  assert.equal(stub.logRequests.at(-1)?.drvPath, DRV);
});

test('farm logs of an unknown job: NOT_FOUND message, exit 1', async () => {
  const r = await farm('logs', OTHER);
  assert.equal(r.status, 1);
  assert.equal(r.stdout, '');
  assert.match(r.stderr, new RegExp(`^farm logs: no build log for ${OTHER.replace(/[.]/g, '\\.')}: no job for`));
});

test('farm status: states, submissions with done/total; with an id each job with state, agent and reason; --json', async () => {
  const r = await farm('status');
  assert.equal(r.status, 0, r.stderr);
  assert.match(r.stdout, /^STATE +JOBS\nrunning +1\nready +2\n/);
  assert.match(r.stdout, /SUBMISSION +CLIENT +AGE +DONE +FAILED +STATE +ROOTS\nsub-7 +alice@laptop +5m +1\/3 +0 +running +hello-2\.12/);

  const one = await farm('status', 'sub-7');
  assert.equal(one.status, 0, one.stderr);
  assert.match(one.stdout, new RegExp(`${JOB} +running +hello-2\\.12 +builder-1`));
  assert.match(one.stdout, /x +ready +world-1\.0 +- +waiting for capacity: no agent has system aarch64-linux/);

  const json = await farm('status', '--json', 'sub-7');
  assert.equal(json.status, 0, json.stderr);
  const o = JSON.parse(json.stdout) as { jobsByState: Record<string, number>; submissions: { submissionId: string; createdMs: number }[]; jobs: { drvPath: string; agentId: string }[] };
  assert.equal(o.jobsByState['JOB_STATE_READY'], 2);
  assert.equal(o.submissions[0]?.submissionId, 'sub-7');
  assert.equal(typeof o.submissions[0]?.createdMs, 'number');
  assert.deepEqual(o.jobs.map((j) => j.agentId), ['builder-1', '']);

  const missing = await farm('status', 'sub-404');
  assert.equal(missing.status, 1);
  assert.match(missing.stderr, /farm status: no submission sub-404/);
});

test('farm agents: table with systems, features (mandatory marked), jobs, speed, heartbeat age; --json', async () => {
  const r = await farm('agents');
  assert.equal(r.status, 0, r.stderr);
  const lines = r.stdout.split('\n');
  assert.match(lines[0]!, /^AGENT +HOST +SYSTEMS +FEATURES +JOBS +SPEED +HEARTBEAT$/);
  assert.match(lines[1]!, /^arm-1 \(draining\) +pi +aarch64-linux +- +0\/1 +1 +\d+s ago$/);
  assert.match(lines[2]!, /^builder-1 +host-a +x86_64-linux,i686-linux +big-parallel,kvm\* +1\/4 +2 +\d+s ago$/);
  assert.match(lines[3]!, /^emu-1 +host-a +aarch64-linux \(qemu\) +- +0\/2 +1 +\d+s ago$/);
  assert.match(r.stdout, /\* mandatory/);
  assert.match(r.stdout, /emulated systems .*\n {2}emu-1: aarch64-linux through qemu \(\/usr\/bin\/qemu-aarch64-static\)/);
  const json = JSON.parse((await farm('agents', '--json')).stdout) as { agents: { agentId: string; capabilities: { mandatoryFeatures: string[] }; lastHeartbeatMs: number }[] };
  assert.deepEqual(json.agents.map((a) => a.agentId), ['builder-1', 'arm-1', 'emu-1']);
  assert.deepEqual(json.agents[0]?.capabilities.mandatoryFeatures, ['kvm']);
  assert.equal(json.agents[0]?.lastHeartbeatMs, now - 2_000);
});

test('farm cancel: what was cancelled, what was left running and why; --json; unknown id exits 1', async () => {
  const r = await farm('cancel', 'sub-7');
  assert.equal(r.status, 0, r.stderr);
  assert.equal(r.stdout, `cancelled 1 derivation of sub-7:\n  world-1.0  ${OTHER}\nleft running 1:\n  hello-2.12  ${DRV}: needed by live submission sub-8\n`);
  const json = JSON.parse((await farm('cancel', '--json', 'sub-7')).stdout) as Record<string, unknown>;
  assert.deepEqual(json, { submissionId: 'sub-7', cancelled: [OTHER], leftRunning: { [DRV]: 'needed by live submission sub-8' } });
  const bad = await farm('cancel', 'nope');
  assert.equal(bad.status, 1);
  assert.match(bad.stderr, /farm cancel: no submission nope/);
});

test('--coordinator beats address.json; an unreachable one is named with its origin', async () => {
  const r = await runFarm(['agents', '--state-dir', stateDir, '--coordinator', '127.0.0.1:1']);
  assert.equal(r.status, 1);
  assert.match(r.stderr, /^farm agents: the farm coordinator at 127\.0\.0\.1:1 \(from --coordinator\) is unreachable/);
});

test('farm --help lists the client commands; each has its own --help with examples', async () => {
  const help = await runFarm(['--help']);
  assert.equal(help.status, 0);
  for (const c of ['submit', 'logs', 'status', 'agents', 'cancel']) {
    assert.match(help.stdout, new RegExp(`farm ${c}\\b`));
    const own = await runFarm([c, '--help']);
    assert.equal(own.status, 0, `${c} --help`);
    assert.match(own.stdout, /Examples/);
    assert.match(own.stdout, /--coordinator/);
  }
});
