/**
 * A discrete-event simulator that drives the real scheduling core (`Scheduler` from
 * @farm/coordinator, not a copy) with a DAG of known build durations and a fleet of simulated
 * agents, on a virtual clock.
 *
 * The loop: every agent polls once (idle, nothing queued yet); submit the DAG; then, every
 * simulated instant, each agent with free build slots calls `requestWork(agent, maxJobs -
 * running)` if some ready job fits it or its free slots changed since it last asked (a real
 * agent renews its long poll then), fastest agents first (both queue policies get the same
 * order); a build takes `durationMs / speedFactor` simulated ms; the clock jumps to the next
 * finish time, every build finishing then is `complete`d as built, and the agents ask again. `freeSlots` is never more than `maxJobs - running`, although the core would hand
 * out up to `2 × maxJobs - running` (it lets real agents pipeline uploads, which the simulator
 * has none of), so no agent ever runs more than maxJobs builds.
 *
 * Measured in real time (performance.now()), besides the simulated makespan:
 * - per call: submit, requestWork, complete;
 * - dispatch latency per job: from the start of the scheduler call that made it ready (submit
 *   or complete), or, when no fitting slot was free then, from the start of the complete() call
 *   that freed the slot it got, to the return of the requestWork() that assigned it. So it is
 *   how fast the core turns "ready work + free capacity" into an assignment; time spent waiting
 *   for capacity is not dispatch latency. Each agent's free slots are a FIFO of the real times
 *   they were freed (slots free from the start count from -∞), and an assignment takes the
 *   oldest, so latency = return − max(ready, slot freed).
 * - jobs placement held on purpose: a job some request set aside for a better-placed agent (a
 *   faster one predicted to finish it sooner, a slower idle one where it has slack, one holding
 *   its inputs) waits by the core's choice; such jobs are in the dispatch latency above like
 *   any other, and are also reported apart: how many, their latency, and their wait from ready
 *   to assigned in simulated ms (build time they waited for the better agent).
 *
 * The simulator also checks the core: an assignment to an agent it does not fit, a job assigned
 * twice, or jobs left that nothing will ever run, are errors (FarmError INTERNAL / FAILED_PRECONDITION).
 * Cost: O(jobs × (log jobs + buckets)) plus O(agents) per simulated instant with ready work.
 */
import { performance } from 'node:perf_hooks';
import { FarmError, ManualClock, sequentialIds } from '@farm/common';
import { Scheduler, agentFits, bucketKey, type DrvNode, type DurationEstimator, type QueuePolicy, type SchedulerEvent } from '@farm/coordinator';
import { FinishHeap } from './finish-heap.js';
import { summarize, type SimAgent, type SimDagSpec, type SimJobSpec, type Summary } from './sim-metrics.js';

export interface SimulationOptions {
  readonly policy?: QueuePolicy;
  readonly durations?: DurationEstimator;
  /**
   * Stop once this many builds have completed (default: run until every job is built). The
   * latency benchmark measures dispatch while the queue is still full (what its target is about)
   * instead of while it drains.
   */
  readonly stopAfterCompletions?: number;
}

/** One build as it ran, in simulated ms. */
export interface ScheduledBuild {
  readonly drvPath: string;
  readonly agentId: string;
  readonly startMs: number;
  readonly finishMs: number;
}

export interface SimulationResult {
  readonly dag: string;
  readonly jobs: number;
  readonly agents: number;
  /** Builds completed: every job, unless stopped early by stopAfterCompletions. */
  readonly completed: number;
  /** Jobs neither completed nor running when the simulation ended (queued: ready or waiting). */
  readonly queuedAtEnd: number;
  /** Simulated ms from submit to the last build's finish (or to the stop). */
  readonly makespanMs: number;
  /** Every build, in the order the core assigned them. */
  readonly schedule: readonly ScheduledBuild[];
  /** Dispatch latency in real ms, every job. */
  readonly dispatch: Summary;
  /** Jobs placement held on purpose for a better-placed agent: their wait from ready to assigned in simulated ms, and their dispatch latency in real ms. */
  readonly held: { readonly simulatedWaitMs: Summary; readonly realWaitMs: Summary };
  /** Dispatch latency of the jobs a complete() made ready (those submit made ready wait for submit to return). */
  readonly dispatchAfterComplete: Summary;
  /** Real ms per scheduler call. */
  readonly submitMs: number;
  readonly requestWorkMs: Summary;
  readonly completeMs: Summary;
  /** Real ms the whole simulation took. */
  readonly wallMs: number;
}

interface AgentState {
  readonly id: string;
  readonly agent: SimAgent;
  running: number;
  /** Real times (performance.now()) the free slots were freed, oldest first. */
  readonly freeSince: number[];
  readonly fits: Map<string, boolean>;
}

/** Leases never run out in simulated time: the simulator never calls expireLeases. */
const LEASE_MS = 1e15;

export function simulate(dag: SimDagSpec, agents: readonly SimAgent[], options: SimulationOptions = {}): SimulationResult {
  const wall0 = performance.now();
  const clock = new ManualClock(0);
  const scheduler = new Scheduler(clock, sequentialIds(), {
    leaseMs: LEASE_MS,
    maxAttempts: 1,
    ...(options.policy !== undefined ? { policy: options.policy } : {}),
    ...(options.durations !== undefined ? { durations: options.durations } : {}),
  });

  const specs = new Map<string, SimJobSpec>();
  const graph = new Map<string, DrvNode>();
  /** One node per routing bucket: its routing needs (every job of a bucket has the same). */
  const bucketNeeds = new Map<string, DrvNode>();
  for (const job of dag.jobs) {
    if (specs.has(job.drvPath)) throw new FarmError('INVALID_ARGUMENT', `${dag.name}: ${job.drvPath} appears twice`);
    specs.set(job.drvPath, job);
    // The core keeps the node it is given: pass exactly what the coordinator would.
    const node: DrvNode = { drvPath: job.drvPath, system: job.system, requiredFeatures: job.requiredFeatures, inputDrvs: job.inputDrvs };
    graph.set(job.drvPath, node);
    if (!bucketNeeds.has(bucketKey(node))) bucketNeeds.set(bucketKey(node), node);
  }

  const states: AgentState[] = agents.map((agent) => ({ id: agent.id, agent, running: 0, freeSince: new Array<number>(agent.caps.maxJobs).fill(-Infinity), fits: new Map() }));
  const byId = new Map(states.map((s) => [s.id, s]));
  if (byId.size !== states.length) throw new FarmError('INVALID_ARGUMENT', 'agent ids must be unique');
  for (const s of states) scheduler.registerAgent(s.id, s.agent.caps);
  const askOrder = [...states].sort((a, b) => b.agent.caps.speedFactor - a.agent.caps.speedFactor || (a.id < b.id ? -1 : a.id > b.id ? 1 : 0));

  // Ready jobs not yet assigned, per routing bucket (from the core's own events), so only
  // agents that some ready job fits are asked.
  const readyCount = new Map<string, number>();
  let readyTotal = 0;
  /** jobId → real start of the call that made it ready, whether that call was submit, and the simulated time. */
  const readySince = new Map<string, { at: number; bySubmit: boolean; simAt: number }>();
  /** Jobs some request set aside for a better-placed agent. */
  const held = new Set<string>();
  const heldSimulated: number[] = [];
  const heldReal: number[] = [];
  const track = (events: readonly SchedulerEvent[], callStart: number, bySubmit: boolean) => {
    for (const e of events) {
      if (e.type !== 'job' || e.status !== 'ready' || readySince.has(e.jobId)) continue;
      readySince.set(e.jobId, { at: callStart, bySubmit, simAt: clock.now() });
      const bucket = bucketKey(graph.get(e.drvPath)!);
      readyCount.set(bucket, (readyCount.get(bucket) ?? 0) + 1);
      readyTotal++;
    }
  };
  const fitsSomeReady = (s: AgentState) => {
    for (const [bucket, n] of readyCount) {
      if (n === 0) continue;
      let fits = s.fits.get(bucket);
      if (fits === undefined) s.fits.set(bucket, (fits = agentFits(s.agent.caps, bucketNeeds.get(bucket)!)));
      if (fits) return true;
    }
    return false;
  };

  const heap = new FinishHeap();
  const schedule: ScheduledBuild[] = [];
  const assigned = new Set<string>();
  const latencies: number[] = [];
  const latenciesAfterComplete: number[] = [];
  const requestWorkMs: number[] = [];
  const completeMs: number[] = [];
  let seq = 0;

  /**
   * Agents whose free slots changed since their last request (a build of theirs finished): they
   * ask again whether or not work is ready, as a real agent renews its long poll with its new
   * free slots; the core counts an agent with an outstanding request as waiting (placement may
   * leave a job to a better-placed waiting agent), so its view stays exact.
   */
  const renewing = new Set<AgentState>(states);
  const ask = (s: AgentState, free: number) => {
    const t0 = performance.now();
    const { assignments, setAside } = scheduler.requestWork(s.id, free);
    const t1 = performance.now();
    for (const jobId of setAside) held.add(jobId);
    requestWorkMs.push(t1 - t0);
    if (assignments.length > free) throw new FarmError('INTERNAL', `the core gave ${s.id} ${assignments.length} jobs for ${free} free slots`);
    for (const a of assignments) {
      const spec = specs.get(a.drvPath);
      if (spec === undefined || assigned.has(a.drvPath)) throw new FarmError('INTERNAL', `the core assigned ${a.drvPath} again or out of nowhere`);
      const bucket = bucketKey(spec);
      if (!agentFits(s.agent.caps, spec)) throw new FarmError('INTERNAL', `the core assigned ${a.drvPath} (${bucket}) to ${s.id}, which does not fit it`);
      assigned.add(a.drvPath);
      readyCount.set(bucket, (readyCount.get(bucket) ?? 1) - 1);
      readyTotal--;
      const ready = readySince.get(a.jobId);
      const slotFreed = s.freeSince.shift() ?? -Infinity;
      const latency = t1 - Math.max(ready?.at ?? t0, slotFreed);
      latencies.push(latency);
      if (ready !== undefined && !ready.bySubmit) latenciesAfterComplete.push(latency);
      if (held.has(a.jobId)) {
        heldSimulated.push(clock.now() - (ready?.simAt ?? clock.now()));
        heldReal.push(latency);
      }
      s.running++;
      const now = clock.now();
      const finishAt = now + spec.durationMs / s.agent.caps.speedFactor;
      heap.push({ finishAt, seq: seq++, jobId: a.jobId, drvPath: a.drvPath, agentId: s.id, epoch: a.epoch });
      schedule.push({ drvPath: a.drvPath, agentId: s.id, startMs: now, finishMs: finishAt });
    }
  };
  const dispatch = () => {
    if (readyTotal === 0) {
      // Nothing to hand out: only renew the requests of agents whose free slots changed.
      for (const s of renewing) if (s.agent.caps.maxJobs > s.running) ask(s, s.agent.caps.maxJobs - s.running);
    } else {
      for (const s of askOrder) {
        const free = s.agent.caps.maxJobs - s.running;
        if (free <= 0) continue;
        if (renewing.has(s) || (readyTotal > 0 && fitsSomeReady(s))) ask(s, free);
      }
    }
    renewing.clear();
  };

  // Every agent polls before anything is submitted (idle agents wait for work).
  dispatch();
  const s0 = performance.now();
  const submitted = scheduler.submit({ roots: dag.roots }, graph, () => false);
  const submitMs = performance.now() - s0;
  track(submitted.events, s0, true);
  dispatch();

  let finished = 0;
  const stopAt = options.stopAfterCompletions ?? Infinity;
  while (heap.size > 0 && finished < stopAt) {
    const at = heap.peek()!.finishAt;
    clock.set(at);
    // Every build finishing at this instant completes before anyone asks again.
    while (heap.size > 0 && heap.peek()!.finishAt === at) {
      const b = heap.pop()!;
      const s = byId.get(b.agentId)!;
      const t0 = performance.now();
      const r = scheduler.complete(b.jobId, b.agentId, b.epoch, { kind: 'built' });
      completeMs.push(performance.now() - t0);
      if (!r.accepted) throw new FarmError('INTERNAL', `the core refused the result of ${b.drvPath}: ${r.reason ?? ''}`);
      s.running--;
      s.freeSince.push(t0);
      renewing.add(s);
      finished++;
      track(r.events, t0, false);
    }
    dispatch();
  }

  if (finished < stopAt && finished !== submitted.jobs) {
    const left = dag.jobs.filter((j) => !assigned.has(j.drvPath)).map((j) => `${j.drvPath} (${bucketKey(j)})`);
    throw new FarmError('FAILED_PRECONDITION', `${dag.name}: ${submitted.jobs - finished} of ${submitted.jobs} jobs never ran, e.g. ${left.slice(0, 3).join(', ')}`);
  }
  return {
    dag: dag.name,
    jobs: submitted.jobs,
    agents: agents.length,
    completed: finished,
    queuedAtEnd: submitted.jobs - finished - heap.size,
    makespanMs: clock.now(),
    schedule,
    dispatch: summarize(latencies),
    held: { simulatedWaitMs: summarize(heldSimulated), realWaitMs: summarize(heldReal) },
    dispatchAfterComplete: summarize(latenciesAfterComplete),
    submitMs,
    requestWorkMs: summarize(requestWorkMs),
    completeMs: summarize(completeMs),
    wallMs: performance.now() - wall0,
  };
}
