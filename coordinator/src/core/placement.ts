/**
 * Placement: whether an agent asking for work should leave a ready job to another agent. The
 * scheduler's queues decide which job comes next for the asking agent; this decides whether some
 * other fitting agent is better placed to build it. The rules, in order:
 * 1. locality: a waiting agent that holds more of the job's input bytes (an agent holding fewer
 *    is never preferred, however fast);
 * 2. slack: when the job has slack on a slower waiting agent (its remaining critical path with
 *    this build there still ends within SLACK_MARGIN of the horizon, see RequestContext), that
 *    agent — the slowest such — keeping the faster slot for jobs that have none;
 * 3. earliest finish: when the job has no slack on the asking agent, an agent predicted to
 *    finish it sooner than the asking agent would, starting it now — a faster waiting agent, or
 *    a faster busy one whose next slot (SlotForecast, after the slots this request already
 *    counted on) frees soon enough; the earliest such finish wins, and its slot is reserved;
 * 4. a waiting agent of the same speed with a larger free share of its slots (free capacity ×
 *    speed: finishing at the same time, it keeps more room).
 * Rules 2 and 3 need the job's build time from history (`ownKnown`); a job with only a default
 * guess gets rule 1, then any waiting agent with more free capacity × speed.
 * Two agents never leave a job to each other: rule 1 is strict; rule 2 goes only to slower
 * agents on which the job has slack, rule 3 only to faster ones from an agent where it has none
 * (and slack only grows with speed); rule 4 is strict among equals.
 *
 * Cost. Per bucket the fitting agents are grouped into speed classes (one speed factor each),
 * each knowing which of its agents wait for work; per work request, each class's agents sit in a
 * heap by when their next slot is predicted free. So one check is O(speed classes + inputs ×
 * holders) instead of O(agents): scanning every agent for each job a request looks at made a
 * 500-agent farm whose jobs all had history take seconds per request.
 */
import { BinaryHeap } from './binary-heap.js';
import type { AgentCapabilities } from './routing.js';
import type { SlotForecast } from './slot-forecast.js';

export interface AgentRecord {
  readonly id: string;
  readonly caps: AgentCapabilities;
  readonly running: Set<string>;
  /** When its slots free, from its leases' predicted ends. */
  readonly forecast: SlotForecast;
  readonly fits: Map<string, boolean>;
  draining: boolean;
  /** Free slots of the agent's outstanding work request (0 = it is not waiting); set through AgentPlacement.setWaiting. */
  waitingSlots: number;
}

/** A ready job left by `by` for a faster agent predicted to finish it sooner. */
export interface LeftFor {
  readonly by: string;
  readonly agentId: string;
  readonly at: number;
  readonly slotFreeAt: number;
  readonly finishAt: number;
  readonly byFinishAt: number;
}

/** What placement needs to know of a job. */
export interface PlacedJob {
  readonly bucket: string;
  /** Whether ownMs comes from history, not a default guess. */
  readonly ownKnown: boolean;
  /** Predicted build time on a speed-factor-1 agent, ms. */
  readonly ownMs: number;
  /** Predicted remaining critical path, ms (at speed 1). */
  readonly cpMs: number;
  /** Agents an infrastructure failure of the job happened on: never chosen. */
  readonly failedAgents: ReadonlySet<string> | undefined;
  /** Set when rule 3 leaves the job to a faster agent (`farm explain` says so). */
  leftFor: LeftFor | undefined;
}

/** Fitting agents of one bucket with one speed factor. */
interface SpeedClass {
  readonly speed: number;
  readonly agents: AgentRecord[];
  /** Its agents with a work request open… */
  readonly waiting: Set<AgentRecord>;
  /** …and those among them whose request leaves all their slots free. */
  readonly allFree: Set<AgentRecord>;
}

/** An agent's next slot this request has not counted on yet, predicted free at `at`. */
interface SlotEntry {
  readonly at: number;
  readonly agent: AgentRecord;
  /** Its place in its class, so that equal times come out in a fixed order. */
  readonly order: number;
}

/** What one work request's placement decisions share. */
export interface RequestContext {
  readonly now: number;
  /**
   * Slots of other agents this request has already counted on for the jobs it left them
   * (agent → how many of its earliest slots), so it does not leave them more than they can take.
   */
  readonly reserved: Map<AgentRecord, number>;
  /**
   * The longest predicted remaining critical path among ready and leased jobs, at the fastest
   * fitting speed, ms ('critical-path' policy; -Infinity otherwise): a job whose path stays
   * within it on a slower agent has slack there.
   */
  readonly horizonMs: number;
  /** Per speed class, its agents by next uncounted slot (built on first use in the request). */
  readonly slots: Map<SpeedClass, BinaryHeap<SlotEntry>>;
}

export function newRequestContext(now: number, horizonMs: number): RequestContext {
  return { now, horizonMs, reserved: new Map(), slots: new Map() };
}

/**
 * A job has slack on a slower agent only if its remaining critical path, with this build there,
 * stays within this share of the horizon. The path assumes the rest of the chain runs at the
 * fastest speed as soon as it is ready, which is optimistic, and a critical job on a slow agent
 * costs more than a fast slot kept free a while: so the margin is wide. On the makespan benchmark
 * (two seeds, 24 runs) 0.6 kept every DAG but one within 1.05× of the bound; 0.8–0.95 let
 * the mixed-systems DAG reach 1.07–1.14×.
 */
const SLACK_MARGIN = 0.6;

/** An agent's speed factor as the scheduler uses it (learning, placement): at least 1. */
export function speedOf(agent: { readonly caps: AgentCapabilities }): number {
  return Math.max(1, agent.caps.speedFactor);
}

/** The share of an agent's slots its work request leaves free, times its speed factor. */
export function freeCapacityTimesSpeed(agent: { readonly waitingSlots: number; readonly caps: AgentCapabilities }): number {
  return (Math.min(agent.waitingSlots, agent.caps.maxJobs) / Math.max(1, agent.caps.maxJobs)) * speedOf(agent);
}

function isAllFree(agent: AgentRecord): boolean {
  return agent.waitingSlots >= Math.max(1, agent.caps.maxJobs);
}

/** Agents grouped by speed factor, fastest first; every one counts as waiting if `waiting`. */
function groupBySpeed(agents: Iterable<AgentRecord>, waiting: (a: AgentRecord) => boolean): SpeedClass[] {
  const bySpeed = new Map<number, SpeedClass>();
  for (const a of agents) {
    const speed = speedOf(a);
    let c = bySpeed.get(speed);
    if (c === undefined) bySpeed.set(speed, (c = { speed, agents: [], waiting: new Set(), allFree: new Set() }));
    c.agents.push(a);
    if (waiting(a)) {
      c.waiting.add(a);
      if (isAllFree(a)) c.allFree.add(a);
    }
  }
  return [...bySpeed.values()].sort((a, b) => b.speed - a.speed);
}

export class AgentPlacement {
  /** bucket → its fitting agents' speed classes, fastest first (rebuilt lazily when agents change). */
  private readonly classesByBucket = new Map<string, SpeedClass[]>();
  /** agent → the classes it is in (one per bucket built so far), to keep their waiting sets. */
  private readonly memberships = new Map<AgentRecord, SpeedClass[]>();

  constructor(
    private readonly agents: ReadonlyMap<string, AgentRecord>,
    private readonly fits: (agent: AgentRecord, bucket: string) => boolean,
  ) {}

  /** An agent came, went or was replaced: the classes are rebuilt when next needed. */
  agentsChanged(): void {
    this.classesByBucket.clear();
    this.memberships.clear();
  }

  /** The agent's work request leaves `slots` free (0: it is not waiting). */
  setWaiting(agent: AgentRecord, slots: number): void {
    const wasWaiting = agent.waitingSlots > 0;
    const wasAllFree = isAllFree(agent);
    agent.waitingSlots = slots;
    const waiting = slots > 0;
    const allFree = isAllFree(agent);
    if (waiting === wasWaiting && allFree === wasAllFree) return;
    for (const c of this.memberships.get(agent) ?? []) {
      if (waiting) c.waiting.add(agent);
      else c.waiting.delete(agent);
      if (allFree) c.allFree.add(agent);
      else c.allFree.delete(agent);
    }
  }

  /** The fastest speed factor among the agents that fit the bucket (1 when none does). */
  fastestSpeedFor(bucket: string): number {
    return this.classesFor(bucket)[0]?.speed ?? 1;
  }

  /** Whether `agent` is the only agent (draining or not) that fits the bucket. */
  onlyAgentFor(bucket: string, agent: AgentRecord): boolean {
    const classes = this.classesFor(bucket);
    return classes.length === 1 && classes[0]!.agents.length === 1 && classes[0]!.agents[0] === agent;
  }

  /** The agent `job` should be left to rather than `agent`, which asks for work now; undefined: `agent` takes it. */
  leaveTo(job: PlacedJob, agent: AgentRecord, context: RequestContext, heldInputBytes: ReadonlyMap<string, number>): AgentRecord | undefined {
    let classes: readonly SpeedClass[] = this.classesFor(job.bucket);
    if (heldInputBytes.size > 0) {
      const locality = this.byLocality(job, agent, heldInputBytes);
      if (locality.to !== undefined) return locality.to;
      if (locality.among !== undefined) classes = locality.among;
    }
    if (!job.ownKnown) return this.roomier(job, agent, classes, false);
    const mySpeed = speedOf(agent);
    const fastest = this.fastestSpeedFor(job.bucket);
    const hasSlackAt = (speed: number) => job.ownMs / speed + (job.cpMs - job.ownMs) / fastest <= context.horizonMs * SLACK_MARGIN;
    const chosen = hasSlackAt(mySpeed) ? this.slowestWithSlack(job, agent, classes, hasSlackAt) : this.earliestFinish(job, agent, classes, context);
    return chosen ?? this.roomier(job, agent, classes, true);
  }

  /**
   * Rule 1. `to`: the waiting agent holding the most input bytes, if more than `agent` holds.
   * Otherwise, when `agent` holds some, the rules go on among the waiting agents holding as
   * many (`among`); when it holds none, among all (nobody waiting holds any either).
   */
  private byLocality(job: PlacedJob, agent: AgentRecord, held: ReadonlyMap<string, number>): { to?: AgentRecord; among?: SpeedClass[] } {
    const mine = held.get(agent.id) ?? 0;
    let most: AgentRecord | undefined;
    let mostBytes = mine;
    const asMany: AgentRecord[] = [];
    for (const [agentId, bytes] of held) {
      const other = this.agents.get(agentId);
      if (other === undefined || other === agent || other.waitingSlots <= 0 || !this.eligible(other, job) || !this.fits(other, job.bucket)) continue;
      if (bytes > mostBytes) {
        most = other;
        mostBytes = bytes;
      } else if (bytes === mine) asMany.push(other);
    }
    if (most !== undefined) return { to: most };
    return mine > 0 ? { among: groupBySpeed(asMany, () => true) } : {};
  }

  /** Rule 2: the slowest waiting agent, slower than `agent`, on which the job has slack. */
  private slowestWithSlack(job: PlacedJob, agent: AgentRecord, classes: readonly SpeedClass[], hasSlackAt: (speed: number) => boolean): AgentRecord | undefined {
    const mySpeed = speedOf(agent);
    for (let i = classes.length - 1; i >= 0; i--) {
      const c = classes[i]!;
      if (c.speed >= mySpeed) break;
      // Slack grows with speed: the first class that has it is the slowest.
      if (!hasSlackAt(c.speed)) continue;
      const other = this.firstWaiting(job, agent, c.allFree) ?? this.firstWaiting(job, agent, c.waiting);
      if (other !== undefined) return other;
    }
    return undefined;
  }

  /** Rule 3: the faster agent predicted to finish the job first, if sooner than `agent`; its slot is reserved. */
  private earliestFinish(job: PlacedJob, agent: AgentRecord, classes: readonly SpeedClass[], context: RequestContext): AgentRecord | undefined {
    const mySpeed = speedOf(agent);
    const myFinish = context.now + job.ownMs / mySpeed;
    let best: { slot: SlotEntry; finish: number } | undefined;
    for (const c of classes) {
      if (c.speed <= mySpeed) break;
      const slot = this.earliestSlot(c, job, context);
      if (slot === undefined) continue;
      const finish = slot.at + job.ownMs / c.speed;
      if (finish < myFinish && (best === undefined || finish < best.finish)) best = { slot, finish };
    }
    if (best === undefined) return undefined;
    const to = best.slot.agent;
    context.reserved.set(to, (context.reserved.get(to) ?? 0) + 1);
    job.leftFor = { by: agent.id, agentId: to.id, at: context.now, slotFreeAt: best.slot.at, finishAt: best.finish, byFinishAt: myFinish };
    return to;
  }

  /**
   * Rule 4, or for a job without history any waiting agent (`sameSpeed` false): one with a larger
   * free share of its slots × speed than `agent`.
   */
  private roomier(job: PlacedJob, agent: AgentRecord, classes: readonly SpeedClass[], sameSpeed: boolean): AgentRecord | undefined {
    const mine = freeCapacityTimesSpeed(agent);
    const mySpeed = speedOf(agent);
    for (const c of classes) {
      // Free capacity × speed is at most the speed.
      if (c.speed <= mine) break;
      if (sameSpeed && c.speed !== mySpeed) continue;
      // An agent with all its slots free has the most a class can offer; look at the others only if none has.
      const other = this.firstWaiting(job, agent, c.allFree) ?? this.firstWaiting(job, agent, c.waiting, (a) => freeCapacityTimesSpeed(a) > mine);
      if (other !== undefined) return other;
    }
    return undefined;
  }

  private firstWaiting(job: PlacedJob, except: AgentRecord, among: ReadonlySet<AgentRecord>, also?: (a: AgentRecord) => boolean): AgentRecord | undefined {
    for (const a of among) if (a !== except && this.eligible(a, job) && (also === undefined || also(a))) return a;
    return undefined;
  }

  /** The class's agent whose next uncounted slot frees first (not one the job failed on). */
  private earliestSlot(c: SpeedClass, job: PlacedJob, context: RequestContext): SlotEntry | undefined {
    let heap = context.slots.get(c);
    if (heap === undefined) {
      heap = new BinaryHeap<SlotEntry>((a, b) => a.at < b.at || (a.at === b.at && a.order < b.order));
      c.agents.forEach((a, order) => {
        const at = a.draining ? Infinity : this.nextSlotAt(a, context);
        if (at !== Infinity) heap!.push({ at, agent: a, order });
      });
      context.slots.set(c, heap);
    }
    for (let top = heap.peek(); top !== undefined; top = heap.peek()) {
      // Reservations made since the entry was pushed only move an agent's next slot later:
      // re-key the head until it is current.
      const at = this.nextSlotAt(top.agent, context);
      if (at !== top.at) {
        heap.pop();
        if (at !== Infinity) heap.push({ ...top, at });
        continue;
      }
      if (job.failedAgents?.has(top.agent.id) !== true) return top;
      // Rare (a retried job): look past the agents it failed on without disturbing the heap.
      let best: SlotEntry | undefined;
      c.agents.forEach((a, order) => {
        if (a.draining || job.failedAgents!.has(a.id)) return;
        const slotAt = this.nextSlotAt(a, context);
        if (slotAt !== Infinity && (best === undefined || slotAt < best.at)) best = { at: slotAt, agent: a, order };
      });
      return best;
    }
    return undefined;
  }

  private nextSlotAt(agent: AgentRecord, context: RequestContext): number {
    return agent.forecast.slotFreeAt(context.reserved.get(agent) ?? 0, agent.caps.maxJobs, context.now, agent.waitingSlots > 0);
  }

  private eligible(agent: AgentRecord, job: PlacedJob): boolean {
    return !agent.draining && job.failedAgents?.has(agent.id) !== true;
  }

  private classesFor(bucket: string): SpeedClass[] {
    let classes = this.classesByBucket.get(bucket);
    if (classes === undefined) {
      const fitting = [...this.agents.values()].filter((a) => this.fits(a, bucket));
      classes = groupBySpeed(fitting, (a) => a.waitingSlots > 0);
      for (const c of classes) {
        for (const a of c.agents) {
          let of = this.memberships.get(a);
          if (of === undefined) this.memberships.set(a, (of = []));
          of.push(c);
        }
      }
      this.classesByBucket.set(bucket, classes);
    }
    return classes;
  }
}
