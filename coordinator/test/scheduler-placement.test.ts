/**
 * Placement across agents of different speeds, on the pure core with a fake clock: a job is
 * held for a faster busy agent predicted to finish it sooner (earliest finish), a faster agent
 * leaves a job with slack to a slower idle one, overrunning leases are never waited for, one
 * request never counts on a slot twice, and no two agents ever leave a job to each other.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { ManualClock, sequentialIds } from '@farm/common';
import { Scheduler, SlotForecast, type AgentCapabilities, type DrvNode, type DurationEstimator } from '../src/index.js';

const x86: AgentCapabilities = { systems: ['x86_64-linux'], supportedFeatures: [], mandatoryFeatures: [], maxJobs: 1, speedFactor: 1 };
const node = (drvPath: string, inputDrvs: string[] = []): DrvNode => ({ drvPath, system: 'x86_64-linux', requiredFeatures: [], inputDrvs });
const graphOf = (...nodes: DrvNode[]) => new Map(nodes.map((n) => [n.drvPath, n]));

/** Build times on a speed-1 agent, by drv path, known from history; anything else is a 1 s guess. */
const table = (ms: Record<string, number>): DurationEstimator => ({ estimateMs: (d) => ms[d] ?? 1_000, observe: () => undefined, knows: (d) => ms[d] !== undefined });

function setup(durations: Record<string, number>) {
  const clock = new ManualClock(0);
  return { clock, s: new Scheduler(clock, sequentialIds(), { durations: table(durations), leaseMs: 1e9 }) };
}

const drvs = (s: Scheduler, agent: string, free: number) => {
  const r = s.requestWork(agent, free);
  return { got: r.assignments.map((a) => a.drvPath), r };
};

test('SlotForecast: free slots count only while the agent asks; leases free theirs at their predicted ends; overrunning leases never', () => {
  const f = new SlotForecast();
  assert.equal(f.slotFreeAt(0, 2, 100, true), 100);
  assert.equal(f.slotFreeAt(0, 2, 100, false), Infinity, 'an idle agent that is not asking may be gone');
  f.add(500);
  f.add(300);
  assert.equal(f.leases, 2);
  assert.deepEqual([0, 1, 2].map((k) => f.slotFreeAt(k, 3, 100, true)), [100, 300, 500]);
  assert.deepEqual([0, 1, 2].map((k) => f.slotFreeAt(k, 3, 100, false)), [300, 500, Infinity]);
  assert.equal(f.slotFreeAt(0, 3, 400, false), 500, 'the lease predicted to end at 300 has overrun: it goes last, as never ending');
  assert.equal(f.slotFreeAt(1, 3, 400, false), Infinity);
  // More leases than slots (one finished build still uploading): the first end frees no slot.
  assert.equal(f.slotFreeAt(0, 1, 100, true), 500);
  f.remove(300);
  f.remove(999); // not there: nothing happens
  assert.equal(f.leases, 1);
  assert.equal(f.slotFreeAt(0, 1, 100, true), 500);
});

test('earliest finish: a slow agent leaves a long job to a busy fast agent that finishes it sooner, takes a short one, and explain says why', () => {
  const { s, clock } = setup({ long: 400_000, short: 10_000, warm: 40_000 });
  s.registerAgent('fast', { ...x86, speedFactor: 4 });
  s.registerAgent('slow', x86);
  s.submit({ roots: ['warm'] }, graphOf(node('warm')), () => false);
  assert.deepEqual(drvs(s, 'fast', 1).got, ['warm'], 'fast is busy for 10 s (40 s of work at speed 4)');
  s.stopWaiting('fast');
  s.submit({ roots: ['long', 'short'] }, graphOf(node('long'), node('short')), () => false);
  const slow = drvs(s, 'slow', 1);
  // long: 400 s here, or 10 s + 100 s on fast. short is left alone: 10 s here, 12.5 s there.
  assert.deepEqual(slow.got, ['short']);
  assert.deepEqual(slow.r.setAside.map((id) => s.drvPathOf(id)), ['long']);
  assert.equal(slow.r.leftForOthers, 0, 'fast is not waiting: it asks again when its build ends');
  const why = s.explain(s.jobIdOf('long')!)!;
  assert.equal(why.status, 'ready');
  assert.match(why.summary, /held for the faster agent fast: its next slot is predicted free in 10 s and it would finish the job in 110 s, sooner than slow .* would have \(in 400 s\)/);
  clock.advance(10_000);
  const warm = s.leaseHolder(s.jobIdOf('warm')!)!;
  assert.equal(s.complete(s.jobIdOf('warm')!, 'fast', warm.epoch, { kind: 'built' }).accepted, true);
  assert.deepEqual(drvs(s, 'fast', 1).got, ['long']);
  assert.match(s.explain(s.jobIdOf('long')!)!.summary, /^running on fast/);
});

test('earliest finish: a fast agent whose lease has outlived its prediction is not waited for', () => {
  const { s, clock } = setup({ long: 400_000, warm: 40_000 });
  s.registerAgent('fast', { ...x86, speedFactor: 4 });
  s.registerAgent('slow', x86);
  s.submit({ roots: ['warm'] }, graphOf(node('warm')), () => false);
  drvs(s, 'fast', 1);
  s.stopWaiting('fast');
  s.submit({ roots: ['long'] }, graphOf(node('long')), () => false);
  assert.deepEqual(drvs(s, 'slow', 1).got, [], 'fast is predicted free in 10 s');
  clock.advance(11_000); // warm was predicted to take 10 s on fast: it overran, its end is unknown
  assert.deepEqual(drvs(s, 'slow', 1).got, ['long']);
});

test('a job whose build time is only a default guess is not held for a faster busy agent', () => {
  const { s } = setup({ warm: 40_000 });
  s.registerAgent('fast', { ...x86, speedFactor: 4 });
  s.registerAgent('slow', x86);
  s.submit({ roots: ['warm'] }, graphOf(node('warm')), () => false);
  drvs(s, 'fast', 1);
  s.stopWaiting('fast');
  s.submit({ roots: ['unknown'] }, graphOf(node('unknown')), () => false);
  assert.deepEqual(drvs(s, 'slow', 1).got, ['unknown']);
});

test('earliest finish: one request counts each slot of the faster agent once', () => {
  const { s } = setup({ a: 400_000, b: 399_000, warm: 40_000 });
  s.registerAgent('fast', { ...x86, speedFactor: 4 });
  s.registerAgent('slow', { ...x86, maxJobs: 2 });
  s.submit({ roots: ['warm'] }, graphOf(node('warm')), () => false);
  drvs(s, 'fast', 1);
  s.stopWaiting('fast');
  s.submit({ roots: ['a', 'b'] }, graphOf(node('a'), node('b')), () => false);
  const slow = drvs(s, 'slow', 2);
  assert.deepEqual(slow.got, ['b'], "a is left for fast's one slot; b would have to wait behind it, so slow builds it");
  assert.deepEqual(slow.r.setAside.map((id) => s.drvPathOf(id)), ['a']);
});

test('slack: a fast agent leaves a job that is not on the critical path to a slower idle agent, which keeps it', () => {
  // c1 → c2 is the critical path (500 s + 500 s); side (20 s) has slack even at speed 1.
  const { s } = setup({ c1: 500_000, c2: 500_000, side: 20_000 });
  s.registerAgent('fast', { ...x86, speedFactor: 4, maxJobs: 2 });
  s.registerAgent('slow', x86);
  assert.deepEqual(drvs(s, 'slow', 1).got, [], 'slow waits: nothing queued yet');
  s.submit({ roots: ['c2', 'side'] }, graphOf(node('c1'), node('c2', ['c1']), node('side')), () => false);
  const fast = drvs(s, 'fast', 2);
  assert.deepEqual(fast.got, ['c1'], 'the critical job goes to the fast agent; its second slot stays free');
  assert.equal(fast.r.leftForOthers, 1, 'side was left to the waiting slow agent, which must be woken');
  assert.deepEqual(drvs(s, 'slow', 1).got, ['side'], 'slow keeps it (no earliest-finish deferral back: the job has slack there)');
});

test('no two agents leave a job to each other: every chain of wake-ups ends (the service wakes waiting agents when a job is left to one)', () => {
  const speeds = [1, 1.5, 2, 4];
  let cases = 0;
  for (let variant = 0; variant < 48; variant++) {
    const durations: Record<string, number> = {};
    const jobs: DrvNode[] = [];
    for (let j = 0; j < 6; j++) {
      const name = `j${j}`;
      durations[name] = 1_000 * (1 + ((variant * 7 + j * 13) % 600));
      // Some chains, so jobs differ in slack.
      jobs.push(node(name, j % 3 === 2 ? [`j${j - 1}`] : []));
    }
    const { s, clock } = setup(durations);
    const agents = [0, 1, 2, 3].map((i) => ({ id: `a${i}`, speed: speeds[(variant + i * 3) % speeds.length]!, slots: 1 + ((variant + i) % 3) }));
    for (const a of agents) s.registerAgent(a.id, { ...x86, speedFactor: a.speed, maxJobs: a.slots });
    // Some agents are busy with a lease predicted to end at various times.
    s.submit({ roots: agents.map((a) => `warm-${a.id}`) }, graphOf(...agents.map((a) => node(`warm-${a.id}`))), () => false);
    for (const a of agents) {
      if ((variant + a.speed) % 2 === 0) s.requestWork(a.id, 1);
      s.stopWaiting(a.id);
    }
    clock.advance(100);
    s.submit({ roots: jobs.map((j) => j.drvPath) }, graphOf(...jobs), () => false);
    // The service: every agent asks; an agent that got work stops waiting; a request that left
    // jobs to waiting agents wakes every waiting agent, which asks again.
    const waiting = new Set(agents.map((a) => a.id));
    const toAsk = agents.map((a) => a.id);
    let asks = 0;
    while (toAsk.length > 0) {
      asks++;
      assert.ok(asks < 500, `variant ${variant}: agents keep leaving jobs to each other`);
      const id = toAsk.shift()!;
      if (!waiting.has(id)) continue;
      const r = s.requestWork(id, 3);
      if (r.assignments.length > 0) {
        waiting.delete(id);
        s.stopWaiting(id);
      }
      if (r.leftForOthers > 0) for (const w of waiting) if (w !== id && !toAsk.includes(w)) toAsk.push(w);
    }
    cases++;
  }
  assert.equal(cases, 48);
});

/** Registers fast agents f1…fn (speed 4, one slot each), each busy with a warm-up job ending i × 10 s from now. */
function busyFastAgents(s: Scheduler, n: number): void {
  for (let i = 1; i <= n; i++) {
    s.registerAgent(`f${i}`, { ...x86, speedFactor: 4 });
    s.submit({ roots: [`warm${i}`] }, graphOf(node(`warm${i}`)), () => false);
    assert.deepEqual(drvs(s, `f${i}`, 1).got, [`warm${i}`]);
    s.stopWaiting(`f${i}`);
  }
}

test('earliest finish over many fast agents: one request leaves each long job to the next slot to free, in order', () => {
  const { s } = setup({ warm1: 40_000, warm2: 80_000, warm3: 120_000, l1: 400_000, l2: 399_000, l3: 398_000 });
  busyFastAgents(s, 3);
  s.registerAgent('slow', { ...x86, maxJobs: 3 });
  s.submit({ roots: ['l1', 'l2', 'l3'] }, graphOf(node('l1'), node('l2'), node('l3')), () => false);
  const slow = drvs(s, 'slow', 3);
  assert.deepEqual(slow.got, []);
  assert.deepEqual(slow.r.setAside.map((id) => s.drvPathOf(id)), ['l1', 'l2', 'l3']);
  // Each fast agent's one slot is counted on once: l1 on f1 (free in 10 s), l2 on f2, l3 on f3.
  assert.deepEqual(['l1', 'l2', 'l3'].map((d) => /held for the faster agent (f\d)/.exec(s.explain(s.jobIdOf(d)!)!.summary)?.[1]), ['f1', 'f2', 'f3']);
});

test('earliest finish looks past a draining fast agent and past one the job failed on', () => {
  const { s, clock } = setup({ warm1: 40_000, warm2: 80_000, warm3: 120_000, long: 400_000, warm1b: 8_000 });
  busyFastAgents(s, 3);
  s.registerAgent('slow', x86);
  s.setDraining('f1', true);
  s.submit({ roots: ['long'] }, graphOf(node('long')), () => false);
  assert.deepEqual(drvs(s, 'slow', 1).got, []);
  assert.match(s.explain(s.jobIdOf('long')!)!.summary, /held for the faster agent f2/, 'f1 frees first but is draining');
  s.stopWaiting('slow');
  s.setDraining('f1', false);
  // long fails on f1 (an infrastructure failure): after its backoff, f1 is never chosen for it again.
  clock.advance(10_000);
  const warm1 = s.leaseHolder(s.jobIdOf('warm1')!)!;
  s.complete(s.jobIdOf('warm1')!, 'f1', warm1.epoch, { kind: 'built' });
  const [lease] = s.requestWork('f1', 1).assignments;
  assert.equal(lease?.drvPath, 'long');
  s.complete(lease!.jobId, 'f1', lease!.epoch, { kind: 'infrastructure-failure', message: 'disk full' });
  s.registerAgent('f1', { ...x86, speedFactor: 4 }); // re-registered, and busy again
  s.submit({ roots: ['warm1b'] }, graphOf(node('warm1b')), () => false);
  assert.deepEqual(drvs(s, 'f1', 1).got, ['warm1b'], 'long is backing off; f1 takes other work');
  s.stopWaiting('f1');
  clock.advance(s.nextDueAt()! - clock.now());
  assert.deepEqual(drvs(s, 'slow', 1).got, []);
  assert.match(s.explain(s.jobIdOf('long')!)!.summary, /held for the faster agent f2/, 'f1 frees first again, but long failed there');
});

test('locality first, then timing among the agents holding as many input bytes: a faster agent holding none is passed over', () => {
  const { s } = setup({ dep: 1_000, o: 1_000, top: 400_000 });
  s.registerAgent('a', x86);
  s.registerAgent('b', { ...x86, speedFactor: 4 });
  s.registerAgent('c', { ...x86, speedFactor: 8 });
  // a builds dep; b builds o from it: both stores hold dep's 1,000 bytes, c's holds nothing.
  s.submit({ roots: ['o'] }, graphOf(node('dep'), node('o', ['dep'])), () => false);
  const [dep] = s.requestWork('a', 1).assignments;
  s.stopWaiting('a');
  s.complete(dep!.jobId, 'a', dep!.epoch, { kind: 'built', outputBytes: 1_000 });
  const [o] = s.requestWork('b', 1).assignments;
  s.stopWaiting('b');
  s.complete(o!.jobId, 'b', o!.epoch, { kind: 'built', outputBytes: 10 });
  // b and c wait for work; then top (from dep, no slack anywhere) becomes ready and a asks.
  assert.deepEqual(drvs(s, 'b', 1).got, []);
  assert.deepEqual(drvs(s, 'c', 1).got, []);
  s.submit({ roots: ['top'] }, graphOf(node('dep'), node('top', ['dep'])), () => false);
  const a = drvs(s, 'a', 1);
  assert.deepEqual(a.got, []);
  assert.equal(a.r.leftForOthers, 1);
  assert.match(s.explain(s.jobIdOf('top')!)!.summary, /held for the faster agent b/, 'c would finish it sooner but holds none of its inputs');
  assert.deepEqual(drvs(s, 'b', 1).got, ['top']);
});

test('the only agent that fits a bucket takes that bucket first, leaving work others can take to them', () => {
  const arm: AgentCapabilities = { ...x86, systems: ['aarch64-linux'] };
  const { s } = setup({ plain: 600_000, big: 60_000 });
  s.registerAgent('arm-big', { ...arm, supportedFeatures: ['big'] });
  s.registerAgent('arm', arm);
  const plain: DrvNode = { drvPath: 'plain', system: 'aarch64-linux', requiredFeatures: [], inputDrvs: [] };
  const big: DrvNode = { drvPath: 'big', system: 'aarch64-linux', requiredFeatures: ['big'], inputDrvs: [] };
  s.submit({ roots: ['plain', 'big'] }, graphOf(plain, big), () => false);
  // plain has the longer critical path, but arm can build it and nobody else can build big.
  assert.deepEqual(drvs(s, 'arm-big', 1).got, ['big']);
  assert.deepEqual(drvs(s, 'arm', 1).got, ['plain']);
  assert.match(s.explain(s.jobIdOf('big')!)!.details.join('\n'), /no other agent fits aarch64-linux.*big, so its jobs go before work other agents could take/);
  assert.doesNotMatch(s.explain(s.jobIdOf('plain')!)!.details.join('\n'), /no other agent fits/);
});
