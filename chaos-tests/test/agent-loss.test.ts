/**
 * Agent loss (issue 4), with real processes only: a nats-server, `farm coordinator` and two
 * `farm agent` daemons (each its own process group: agent, sandbox launcher, bwrap builds), a
 * waiting `farm submit`, the real Nix to instantiate. The lease is short (3 s, heartbeats every
 * second) so the coordinator gives up on a silent agent quickly.
 *
 * 1. SIGKILL the agent mid-build → the job is leased again under a higher epoch, completes on
 *    the other agent, the submission succeeds, and the coordinator records exactly one accepted
 *    build (the other agent's).
 * 2. SIGSTOP the agent mid-build past its lease, let the other agent build it, then SIGCONT →
 *    nothing from the frozen agent is accepted: either it fences itself (its lease was not
 *    renewed in time, so it kills the build and reports nothing) or its stale result is refused.
 *    The agent's own timers run first after SIGCONT, so it fences itself; the result it would
 *    have sent (its own output, under its old lease) is then published to FARM_RESULTS as it
 *    would have been, and the coordinator must refuse it. The farm store keeps the valid
 *    lease's output, byte for byte.
 */
import { test, type TestContext } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync, spawn } from 'node:child_process';
import { createHash } from 'node:crypto';
import { existsSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { basename, join } from 'node:path';
import { FARM_BIN, killTree, makeTempDir, REPO_ROOT, startNatsServer, type NatsServer, type TempDir } from '@farm/testkit';
import { dumpNarToBuffer } from '@farm/nix';
import { createCoordinatorClient, encodeMessage, resultMessageId, SUBJECTS, type AgentInfo__Output } from '@farm/proto';
import { eventually, FarmClient } from '../src/index.js';
import { startAgentProcess, startCoordinatorProcess, type CoordinatorProcess, type DaemonProcess, type LogLine } from '../src/farm-daemons.js';
import { jetStreamPublish } from '../src/jetstream-publish.js';

const FIXTURE = join(REPO_ROOT, 'chaos-tests', 'test', 'fixtures', 'agent-loss.nix');
const LEASE_MS = 3000;
const HEARTBEAT_MS = 1000;
/** Whatever happens, a scenario gives up after this long (the tests' overall bound). */
const SCENARIO_MS = 45_000;
const UUID_LINE = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}\n$/;

interface Farm {
  readonly dir: string;
  readonly nats: NatsServer;
  readonly coordinator: CoordinatorProcess;
  readonly agents: readonly DaemonProcess[];
  readonly client: FarmClient;
}

/** Runs `body` on a fresh farm and takes everything down afterwards, also after a failure (whose logs it prints). */
async function withFarm(t: TestContext, body: (farm: Farm, tmp: TempDir) => Promise<void>): Promise<void> {
  const tmp = await makeTempDir('farm-agent-loss-');
  const cleanups: (() => Promise<void> | void)[] = [];
  const daemons: DaemonProcess[] = [];
  let failed = true;
  try {
    const nats = await startNatsServer();
    cleanups.push(() => nats.stop());
    const coordinator = await startCoordinatorProcess({ dir: tmp.path, natsUrl: nats.url, settings: { leaseMs: `${LEASE_MS}ms`, heartbeatMs: `${HEARTBEAT_MS}ms` } });
    daemons.push(coordinator);
    cleanups.push(() => coordinator.stop());
    const agents: DaemonProcess[] = [];
    for (const name of ['agent-a', 'agent-b']) {
      const agent = await startAgentProcess({ dir: tmp.path, name, coordinator: coordinator.grpc, natsUrl: nats.url, settings: { maxJobs: 1 } });
      agents.push(agent);
      daemons.push(agent);
      cleanups.push(() => agent.stop()); // SIGCONT first: a stopped agent is resumed before it is stopped
    }
    const client = new FarmClient(coordinator.grpc);
    cleanups.push(() => client.close());
    await body({ dir: tmp.path, nats, coordinator, agents, client }, tmp);
    failed = false;
  } finally {
    if (failed) for (const d of daemons) t.diagnostic(`--- ${d.name} log (tail) ---\n${d.logText().slice(-6000)}`);
    for (const c of cleanups.reverse()) {
      try {
        await c();
      } catch {
        // keep cleaning up
      }
    }
    await tmp.remove();
  }
}

function instantiate(dir: string, salt: string): { drv: string; out: string } {
  const printed = execFileSync('nix-instantiate', [FIXTURE, '-A', 'slow', '--argstr', 'salt', salt, '--add-root', join(dir, `gc-${salt}`), '--indirect'], {
    encoding: 'utf8',
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  const drv = execFileSync('readlink', ['-f', printed.trim()], { encoding: 'utf8' }).trim();
  const out = execFileSync('nix-store', ['--query', '--outputs', drv], { encoding: 'utf8' }).trim();
  return { drv, out };
}

interface Submission {
  /** The id, once the coordinator accepted the submission. */
  readonly id: Promise<string>;
  /** The waiting `farm submit --json` ended: its exit code and output. */
  readonly done: Promise<{ code: number | null; stdout: string; stderr: string }>;
  kill(): void;
}

/** `farm submit --json DRV`, waiting for the result as a user's terminal would. */
function submit(farm: Farm, drv: string): Submission {
  const child = spawn(FARM_BIN, ['submit', '--json', drv], {
    cwd: REPO_ROOT,
    env: { ...process.env, FARM_COORDINATOR: farm.coordinator.grpc, FARM_STATE_DIR: join(farm.dir, 'client') },
    stdio: ['ignore', 'pipe', 'pipe'],
    detached: true,
  });
  let stdout = '';
  let stderr = '';
  let resolveId: (id: string) => void = () => {};
  const id = new Promise<string>((resolve) => (resolveId = resolve));
  child.stdout.on('data', (d: Buffer) => {
    stdout += d.toString();
    for (const line of stdout.split('\n')) {
      if (!line.includes('"submitted"')) continue;
      const e = JSON.parse(line) as { type?: string; submissionId?: string };
      if (e.type === 'submitted' && e.submissionId !== undefined) resolveId(e.submissionId);
    }
  });
  child.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
  const done = new Promise<{ code: number | null; stdout: string; stderr: string }>((resolve) => child.once('exit', (code) => resolve({ code, stdout, stderr })));
  const exitedFirst = done.then((r) => Promise.reject(new Error(`farm submit exited (${String(r.code)}) before it submitted:\n${r.stderr}`)));
  const submission = { id: within(Promise.race([id, exitedFirst]), 'the submission id'), done: within(done, 'farm submit to finish'), kill: () => killTree(child) };
  // Whichever of them a failing test never awaits must not surface as an unhandled rejection.
  submission.id.catch(() => undefined);
  submission.done.catch(() => undefined);
  return submission;
}

/** `p`, or a rejection naming `what` once the scenario's time is up. */
function within<T>(p: Promise<T>, what: string, ms = SCENARIO_MS): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<never>((_, reject) => (timer = setTimeout(() => reject(new Error(`no ${what} within ${ms} ms`)), ms)));
  return Promise.race([p, timeout]).finally(() => clearTimeout(timer));
}

/** The agent the job is running on (per the coordinator) once that agent has the assignment, and the lease's epoch. */
async function runningOn(farm: Farm, submissionId: string, drv: string): Promise<{ agent: DaemonProcess; epoch: string }> {
  const jobId = basename(drv).slice(0, 32);
  return eventually(
    async () => {
      const job = (await farm.client.status(submissionId)).jobs.find((j) => j.drvPath === drv);
      assert.equal(job?.state, 'JOB_STATE_RUNNING', `job state ${job?.state ?? 'unknown'}`);
      const agent = farm.agents.find((a) => a.name === job.agentId);
      assert.ok(agent, `running on a known agent (${job.agentId})`);
      const received = agent.logLines().find((l) => l.msg === 'assignment received' && l['jobId'] === jobId);
      assert.ok(received, `${agent.name} received the assignment`);
      return { agent, epoch: String(received['epoch']) };
    },
    SCENARIO_MS,
    50,
  );
}

/**
 * What the build wrote to $out so far, read from the agent's scratch store on the host
 * (`<stateDir>/work/build-*\/store/<out>`): once it holds a whole UUID line the builder is in
 * its sleep, i.e. mid-build.
 */
async function midBuildOutput(agent: DaemonProcess, out: string): Promise<string> {
  const work = join(agent.stateDir, 'work');
  return eventually(
    async () => {
      for (const d of existsSync(work) ? readdirSync(work) : []) {
        const p = join(work, d, 'store', basename(out));
        if (!d.startsWith('build-') || !existsSync(p)) continue;
        const content = readFileSync(p, 'utf8');
        if (UUID_LINE.test(content)) return content;
      }
      throw new Error(`${agent.name} has not written ${out} yet`);
    },
    SCENARIO_MS,
    20,
  );
}

function linesOf(daemon: DaemonProcess, match: (l: LogLine) => boolean): LogLine[] {
  return daemon.logLines().filter(match);
}

function listAgents(grpc: string): Promise<AgentInfo__Output[]> {
  const client = createCoordinatorClient(grpc);
  return new Promise<AgentInfo__Output[]>((resolve, reject) =>
    client.ListAgents({}, (e, r) => (e || !r ? reject(e ?? new Error('no reply')) : resolve(r.agents))),
  ).finally(() => client.close());
}

const sha256Hex = (b: Uint8Array): string => createHash('sha256').update(b).digest('hex');

test('an agent SIGKILLed mid-build: the job completes on the other agent under a new epoch and is recorded once', { timeout: 120_000 }, async (t) => {
  await withFarm(t, async (farm) => {
    const { drv, out } = instantiate(farm.dir, `kill-${process.pid}-${Date.now()}`);
    const jobId = basename(drv).slice(0, 32);
    const submission = submit(farm, drv);
    try {
      const sub = await submission.id;
      const { agent: victim, epoch: firstEpoch } = await runningOn(farm, sub, drv);
      await midBuildOutput(victim, out);
      const survivor = farm.agents.find((a) => a !== victim)!;

      const killedAt = Date.now();
      await victim.kill(); // the agent, its launcher and (die-with-parent) its sandbox
      t.diagnostic(`SIGKILLed ${victim.name} (pid ${victim.pid}) holding ${jobId} epoch ${firstEpoch}`);

      const result = await submission.done;
      assert.equal(result.code, 0, `farm submit succeeds:\n${result.stderr}\n${result.stdout.slice(-3000)}`);
      const summary = (await farm.client.status(sub)).submissions.find((s) => s.submissionId === sub);
      assert.ok(summary?.done);
      assert.equal(summary.succeeded, 1);
      assert.equal(summary.failed, 0);

      const records = await farm.client.builds(drv);
      assert.equal(records.length, 1, `exactly one accepted build record: ${JSON.stringify(records)}`);
      const [record] = records;
      assert.equal(record!.status, 'built');
      assert.equal(record!.agentId, survivor.name, 'built by the agent that was not killed');
      assert.ok(BigInt(record!.epoch) > BigInt(firstEpoch), `new epoch ${record!.epoch} > killed lease's ${firstEpoch}`);
      assert.ok(Number(record!.assignedMs) >= killedAt, 'leased again after the kill');
      assert.deepEqual(await farm.client.missing([out]), [], 'the output is in the farm store');

      // The coordinator declared the agent lost (no heartbeat for a lease period) and dropped it.
      assert.ok(linesOf(farm.coordinator, (l) => l['agentId'] === victim.name && String(l.msg).startsWith('agent lost')).length > 0, 'coordinator logged the agent as lost');
      assert.deepEqual((await listAgents(farm.coordinator.grpc)).map((a) => a.agentId), [survivor.name]);

      // Measured, not asserted: the bound is the configured lease (plus the retry backoff).
      t.diagnostic(
        `kill → ready again ${Number(record!.readyMs) - killedAt} ms, kill → leased to ${survivor.name} ${Number(record!.assignedMs) - killedAt} ms, ` +
          `kill → built ${Number(record!.finishedMs) - killedAt} ms (leaseMs ${LEASE_MS}, heartbeatMs ${HEARTBEAT_MS})`,
      );
    } finally {
      submission.kill();
    }
  });
});

test('an agent SIGSTOPped past its lease, then SIGCONTed: nothing from it is accepted and the store keeps the valid lease output', { timeout: 120_000 }, async (t) => {
  await withFarm(t, async (farm, tmp) => {
    const { drv, out } = instantiate(farm.dir, `stop-${process.pid}-${Date.now()}`);
    const jobId = basename(drv).slice(0, 32);
    const submission = submit(farm, drv);
    try {
      const sub = await submission.id;
      const { agent: frozen, epoch: staleEpoch } = await runningOn(farm, sub, drv);
      const frozenOutput = await midBuildOutput(frozen, out);
      const other = farm.agents.find((a) => a !== frozen)!;

      const stoppedAt = Date.now();
      frozen.signal('SIGSTOP'); // agent, launcher and build all frozen, as on a suspended host
      t.diagnostic(`SIGSTOPped ${frozen.name} (pid ${frozen.pid}) holding ${jobId} epoch ${staleEpoch}; its output so far: ${frozenOutput.trim()}`);

      const result = await submission.done;
      assert.equal(result.code, 0, `farm submit succeeds:\n${result.stderr}\n${result.stdout.slice(-3000)}`);
      const [valid, ...more] = await farm.client.builds(drv);
      assert.equal(more.length, 0, 'one accepted build while the agent is frozen');
      assert.equal(valid?.agentId, other.name);
      assert.ok(BigInt(valid.epoch) > BigInt(staleEpoch), `valid epoch ${valid.epoch} > stale ${staleEpoch}`);
      t.diagnostic(`${other.name} built it under epoch ${valid.epoch}, ${Number(valid.finishedMs) - stoppedAt} ms after the SIGSTOP`);

      const contAt = Date.now();
      frozen.signal('SIGCONT');

      // The frozen attempt ends one way or the other: fenced (nothing reported) or reported.
      const ofStaleAttempt = (l: LogLine): boolean => l['jobId'] === jobId && String(l['epoch']) === staleEpoch;
      const how = await eventually(
        async () => {
          const lines = linesOf(frozen, ofStaleAttempt);
          if (lines.some((l) => l.msg === 'attempt stopped; no result is reported')) return 'fenced' as const;
          if (lines.some((l) => typeof l['status'] === 'string')) return 'reported' as const;
          throw new Error(`${frozen.name}'s attempt at epoch ${staleEpoch} has not ended yet`);
        },
        SCENARIO_MS,
        50,
      );
      t.diagnostic(`${frozen.name} after SIGCONT: ${how === 'fenced' ? 'fenced itself (lease not renewed in time: build killed, nothing reported)' : 'reported its result'} (${Date.now() - contAt} ms)`);

      if (how === 'fenced') {
        // Put on the wire what it would have sent: BUILT under its old lease, with its own output.
        const staleFile = join(tmp.path, 'stale-output');
        writeFileSync(staleFile, frozenOutput);
        const nar = dumpNarToBuffer(staleFile);
        const staleResult = encodeMessage('BuildResult', {
          lease: { jobId, epoch: staleEpoch },
          agentId: frozen.name,
          status: 'BUILD_STATUS_BUILT',
          message: '',
          outputs: [{ path: out, deriver: drv, narHash: nar.narHash.toPrefixed('nix32'), narSize: String(nar.narSize), references: [], ca: '' }],
          logTail: Buffer.alloc(0),
          startMs: String(stoppedAt),
          stopMs: String(Date.now()),
          outputNars: [{ path: out, nar: nar.nar }],
        });
        const ack = await jetStreamPublish(farm.nats.url, SUBJECTS.results(frozen.name), staleResult, { msgId: resultMessageId(jobId, staleEpoch) });
        assert.equal(ack.duplicate, false, 'the fenced agent had published no result for its lease');
      }
      const refusal = await eventually(
        async () => {
          const [line] = linesOf(farm.coordinator, (l) => l.msg === 'build result refused' && ofStaleAttempt(l) && l['agentId'] === frozen.name);
          assert.ok(line, 'the coordinator refused the stale result');
          return line;
        },
        SCENARIO_MS,
        50,
      );
      assert.match(String(refusal['reason']), /stale lease/);
      t.diagnostic(`coordinator: build result refused — ${String(refusal['reason'])}`);

      // The frozen agent is told it is unknown and registers again; the farm carries on.
      await eventually(async () => assert.ok(linesOf(frozen, (l) => l.msg === 'registered with the coordinator').length >= 2, `${frozen.name} registered again`), SCENARIO_MS, 100);
      assert.ok(linesOf(farm.coordinator, (l) => l['agentId'] === frozen.name && String(l.msg).startsWith('agent lost')).length > 0, 'coordinator logged the agent as lost');

      // Still exactly one accepted build, the valid lease's.
      const records = await farm.client.builds(drv);
      assert.equal(records.length, 1, `exactly one accepted build record: ${JSON.stringify(records)}`);
      assert.equal(records[0]!.agentId, other.name);
      assert.equal(records[0]!.epoch, valid.epoch);

      // The farm store serves the valid lease's output: the NAR of the other agent's copy, not the frozen one's.
      const served = await farm.client.narSha256Hex(out);
      const otherCopy = join(other.stateDir, 'store', basename(out));
      const otherOutput = readFileSync(otherCopy, 'utf8');
      assert.match(otherOutput, UUID_LINE);
      assert.notEqual(otherOutput, frozenOutput, 'the two attempts wrote different outputs');
      assert.equal(served, sha256Hex(dumpNarToBuffer(otherCopy).nar), 'the farm store holds the valid lease output');
      const staleCopy = join(tmp.path, 'stale-output-check');
      writeFileSync(staleCopy, frozenOutput);
      assert.notEqual(served, sha256Hex(dumpNarToBuffer(staleCopy).nar), 'the farm store does not hold the stale attempt output');
    } finally {
      submission.kill();
    }
  });
});
