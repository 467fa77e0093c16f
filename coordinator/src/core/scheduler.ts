/**
 * The pure scheduling core: derivation DAGs in, leases and events out. No I/O, no Date.now,
 * no randomness — the clock and ids are injected, and every method returns the events it
 * caused so the caller can persist them before acknowledging anything.
 *
 * Invariants:
 * - one job per drv path, shared by every submission that needs it (dedup); a drv whose outputs
 *   are valid in the farm store is never a job;
 * - `pending` of a job = its input jobs not yet succeeded; a job is ready iff pending = 0;
 *   a finished job updates only its dependents (incremental, never a rescan);
 * - a ready job has an entry in its bucket's queue of every live submission that needs it (one
 *   queue per submission, for fair share); stale entries (job no longer ready under that epoch)
 *   are skipped lazily; a job in retry backoff sits in `delayed` until it is due;
 * - each live submission's `running` counts the leases charged to it (a lease is charged to the
 *   submissions that needed the job when it was assigned, and uncharged when the lease ends);
 * - leases carry epochs (job-state.ts): results from any other (agent, epoch) are refused;
 * - a build failure fails exactly the transitive dependents (`dependency-failed`), nothing else.
 * Order (queue-order.ts): critical path, then priority, then age — under fair share: a live
 * submission running fewer jobs than its share of the agents' slots is served first.
 * Placement (placement.ts): locality, then slack on a slower idle agent, then earliest predicted
 * finish on a faster agent (SlotForecast), then free room among equals.
 * Costs: submit O(closure); requestWork O(queues + (k + jobs set aside) × (log n + speed classes
 * + inputs × holders)), plus O(agents) once per request that looks at faster busy agents;
 * complete O(dependents).
 */
import type { Clock, IdGenerator } from '@farm/common';
import * as js from './job-state.js';
import { dueFirst, orderOf, type QueueEntry } from './queue-order.js';
import { ReadyQueue } from './ready-queue.js';
import { afterInfrastructureFailure, DEFAULT_RETRY_POLICY, type RetryPolicy } from './retry-policy.js';
import { agentFits, bucketKey, capacityProblem, type AgentCapabilities, type RoutingNeeds } from './routing.js';
import { BinaryHeap } from './binary-heap.js';
import { SlotForecast } from './slot-forecast.js';
import { AgentPlacement, newRequestContext, speedOf, type AgentRecord, type LeftFor, type RequestContext } from './placement.js';
import type {
  QueuePolicy,
  AgentView,
  AssignmentOut,
  BuildOutcome,
  DurationEstimator,
  Explanation,
  LeaseHolder,
  DrvNode,
  JobEvent,
  JobStatus,
  SchedulerEvent,
  SchedulerOptions,
  SubmitInput,
  SubmitOutcome,
} from './scheduler-types.js';

interface JobRecord {
  readonly id: string;
  readonly node: DrvNode;
  readonly bucket: string;
  job: js.Job;
  pending: number;
  readonly dependents: Set<string>;
  readonly submissions: Set<string>;
  dependencyFailed: boolean;
  reason: string | undefined;
  priority: number;
  /** Predicted remaining critical path (own estimate + the longest chain of dependents), ms. */
  cpMs: number;
  /** Predicted build time on a speed-factor-1 agent, ms (the own part of cpMs). */
  ownMs: number;
  /** Whether ownMs comes from history (DurationEstimator.knows), not a default guess. */
  ownKnown: boolean;
  /** When the current lease is predicted to end (its agent's SlotForecast holds it). */
  predictedEnd: number;
  /** Set while the job is left for a faster busy agent (`farm explain` says so). */
  leftFor: LeftFor | undefined;
  /** Order of the oldest submission that needs the job ('hydra' policy). */
  submissionOrder: number;
  /** When the current lease began (for learning durations). */
  assignedAt: number;
  /** Submissions whose running count the current lease is charged to. */
  chargedTo: readonly string[];
  /** Distinct agents an infrastructure failure of this job happened on (retry elsewhere, poison). */
  failedAgents: Set<string> | undefined;
  /** The job's last failure, for the failure cache (build failures are reused until the TTL). */
  failure: { readonly kind: 'build' | 'poison' | 'infrastructure'; readonly at: number } | undefined;
  /** End of the current retry backoff (0 = none). */
  backoffUntil: number;
  /** Agents whose stores hold this job's outputs (they built it, or fetched it as an input). */
  holders: Set<string> | undefined;
  /** The outputs' NAR bytes in all, once built (placement weighs inputs by it). */
  outputBytes: number;
  /** Why the current or last lease went to its agent (`farm explain` formats it). */
  placement: Placement | undefined;
  /** When its newest queue entries were pushed (its place among equals). */
  queuedAt: number;
  /** The agent of the current or last lease. */
  lastAgent: string | undefined;
}

/** The facts of an assignment, kept as they were; turned into words only when explained. */
interface Placement {
  readonly agentId: string;
  readonly bucket: string;
  readonly freeSlots: number;
  readonly cpMs: number;
  readonly priority: number;
  readonly inputBytes: number;
  readonly underShare: boolean;
  /** No other agent fits the job's bucket (such work goes first). */
  readonly onlyFitting: boolean;
  readonly failedAgents: readonly string[];
}

interface SubmissionRecord {
  readonly id: string;
  readonly jobs: Set<string>;
  readonly priority: number;
  readonly order: number;
  /** Leases charged to this submission now (fair share). */
  running: number;
  /** Its jobs not finished yet, and the finished ones by outcome: done is remaining = 0, in O(1). */
  remaining: number;
  succeeded: number;
  failed: number;
  done: boolean;
}

export const DEFAULT_SCHEDULER_OPTIONS: SchedulerOptions = { leaseMs: 12_000, maxAttempts: DEFAULT_RETRY_POLICY.maxAttempts };

/** Used when no estimator is injected: every job is predicted to take the same time. */
const FLAT_ESTIMATE: DurationEstimator = { estimateMs: () => 60_000, observe: () => undefined };

/** The key of the single queue per bucket when there is no fair share ('hydra'). */
const ALL = '';

const NO_HELD_INPUTS: ReadonlyMap<string, number> = new Map();

/** A job set aside by one work request, and whether the agent it was left to is waiting (and must be woken). */
interface Deferred {
  readonly queue: ReadyQueue;
  readonly entry: QueueEntry;
  readonly toWaiting: boolean;
}

/**
 * Jobs a work request may set aside for better-placed agents, per queue; past that the agent
 * takes the next job anyway (a request stays O(MAX_DEFERRED × agents)). Large enough that a slow
 * agent facing a queue full of long jobs, each better on a faster agent, finds the short ones
 * behind them: at 16 it took an hour-long job the fast agents should have had, and the Debian
 * DAG took 1.6× its bound.
 */
const MAX_DEFERRED = 256;
/**
 * The same for jobs with only a default estimate (placed by locality and free capacity alone):
 * nothing is gained by looking far past them, and on the 100,000-job benchmark 256 made the
 * first wave's p99 dispatch latency 2.4 s where 16 keeps it in milliseconds.
 */
const MAX_DEFERRED_UNTIMED = 16;

export class Scheduler {
  private readonly jobsByDrv = new Map<string, JobRecord>();
  private readonly jobsById = new Map<string, JobRecord>();
  private readonly submissions = new Map<string, SubmissionRecord>();
  private readonly agents = new Map<string, AgentRecord>();
  /** Which fitting agent should build a job (placement.ts); it keeps the agents' waiting state. */
  private readonly placement = new AgentPlacement(this.agents, (a, bucket) => this.fits(a, bucket));
  /** bucket → submission id (or ALL) → ready entries. */
  private readonly queues = new Map<string, Map<string, ReadyQueue>>();
  /** Jobs waiting out a retry backoff, earliest due first. */
  private readonly delayed = new ReadyQueue(dueFirst);
  private readonly bucketNeeds = new Map<string, RoutingNeeds>();
  private readonly bucketProblem = new Map<string, string | undefined>();
  private seq = 0;
  private submissionCount = 0;
  private liveSubmissions = 0;
  /** Σ maxJobs of the agents that are not draining: the slots fair share divides. */
  private totalSlots = 0;
  private readonly options: SchedulerOptions;
  private readonly retry: RetryPolicy;
  private readonly durations: DurationEstimator;
  private readonly better: (a: QueueEntry, b: QueueEntry) => boolean;
  private readonly fairShare: boolean;
  private readonly policy: QueuePolicy;
  /** Leases held now, over all agents. */
  private leaseCount = 0;
  /**
   * Leased jobs by when their remaining critical path is predicted to end (the lease's predicted
   * end + the rest of the path at the fastest fitting speed), latest first; entries of leases that
   * are over are dropped lazily. Its head is the running part of the horizon.
   */
  private readonly leasedPaths = new BinaryHeap<{ readonly endsAt: number; readonly jobId: string; readonly epoch: number }>((a, b) => a.endsAt > b.endsAt);

  constructor(
    private readonly clock: Clock,
    private readonly ids: IdGenerator,
    options: Partial<SchedulerOptions> = {},
  ) {
    this.options = { ...DEFAULT_SCHEDULER_OPTIONS, ...options };
    this.retry = { ...DEFAULT_RETRY_POLICY, ...options.retry, maxAttempts: this.options.maxAttempts };
    this.durations = options.durations ?? FLAT_ESTIMATE;
    this.policy = options.policy ?? 'critical-path';
    this.better = orderOf(this.policy);
    this.fairShare = this.policy === 'critical-path';
  }

  /**
   * Admits the closure of `input.roots` described by `graph`; `isValid(drvPath)` says whether all
   * of a derivation's outputs are already valid in the farm store (then neither it nor its inputs
   * need building). A job whose build failed less than `failureTtlMs` ago is not tried again:
   * the submission gets the cached failure (`farm retry` runs it again).
   */
  submit(input: SubmitInput, graph: ReadonlyMap<string, DrvNode>, isValid: (drvPath: string) => boolean): SubmitOutcome {
    const now = this.clock.now();
    if (input.submissionId !== undefined && this.submissions.has(input.submissionId)) {
      throw new Error(`submission ${input.submissionId} already exists`);
    }
    const sub: SubmissionRecord = {
      id: input.submissionId ?? this.ids.next('sub'),
      jobs: new Set(),
      priority: input.priority ?? 0,
      order: this.submissionCount++,
      running: 0,
      remaining: 0,
      succeeded: 0,
      failed: 0,
      done: false,
    };
    this.submissions.set(sub.id, sub);
    this.liveSubmissions++;
    const events: SchedulerEvent[] = [];
    let alreadyValid = 0;
    let shared = 0;
    const order = this.closureInputsFirst(input.roots, graph, isValid);
    // What to do with each job once the graph edges and critical paths are known.
    const decisions: { rec: JobRecord; action: 'enqueue' | 'wait' | 'dependency-failed' | 'share-ready' | 'cached-failure'; failedInput?: string }[] = [];
    // Jobs this submission fails without building, and the failed derivation to name: their
    // dependents further down the order fail too, though restarted inputs no longer look failed.
    const failedBecause = new Map<string, string>();
    for (const drvPath of order) {
      if (isValid(drvPath)) {
        alreadyValid++;
        continue;
      }
      const existing = this.jobsByDrv.get(drvPath);
      if (existing !== undefined && this.cachedFailure(existing, now)) {
        this.addToSubmission(existing, sub);
        decisions.push({ rec: existing, action: 'cached-failure' });
        failedBecause.set(drvPath, drvPath);
        continue;
      }
      if (existing !== undefined && !this.isFinishedUnsuccessfully(existing)) {
        if (existing.job.state !== 'succeeded') shared++;
        this.addToSubmission(existing, sub);
        existing.priority = Math.max(existing.priority, sub.priority);
        if (existing.job.state === 'ready') decisions.push({ rec: existing, action: 'share-ready' });
        continue;
      }
      const rec = existing ?? this.createJob(graph.get(drvPath)!, sub.order);
      this.addToSubmission(rec, sub);
      rec.priority = Math.max(rec.priority, sub.priority);
      rec.pending = rec.node.inputDrvs.filter((d) => {
        const input = this.jobsByDrv.get(d);
        return input !== undefined && input.job.state !== 'succeeded' && !isValid(d);
      }).length;
      const failedInput =
        rec.node.inputDrvs.map((d) => failedBecause.get(d)).find((cause) => cause !== undefined) ??
        rec.node.inputDrvs.map((d) => this.jobsByDrv.get(d)).find((j) => j !== undefined && this.isFinishedUnsuccessfully(j))?.node.drvPath;
      if (existing !== undefined) {
        this.setJob(rec, this.must(js.restart(existing.job, rec.pending === 0)));
        rec.failedAgents = undefined;
        rec.failure = undefined;
      }
      rec.dependencyFailed = false;
      rec.reason = undefined;
      if (failedInput !== undefined) {
        decisions.push({ rec, action: 'dependency-failed', failedInput });
        failedBecause.set(drvPath, failedInput);
      } else decisions.push({ rec, action: rec.pending === 0 ? 'enqueue' : 'wait' });
    }
    for (const jobId of sub.jobs) {
      const rec = this.jobsById.get(jobId)!;
      for (const d of rec.node.inputDrvs) this.jobsByDrv.get(d)?.dependents.add(rec.node.drvPath);
    }
    // Dependents before their inputs: each job's critical path builds on its dependents'.
    for (let i = decisions.length - 1; i >= 0; i--) this.updateCriticalPath(decisions[i]!.rec);
    for (const { rec, action, failedInput } of decisions) {
      switch (action) {
        case 'enqueue':
          this.enqueue(rec, now, events);
          break;
        case 'wait':
          events.push(this.event(rec, 'waiting', now));
          break;
        case 'dependency-failed':
          this.failAsDependent(rec, failedInput!, now, events);
          break;
        case 'share-ready':
          // Already queued for others: queued for this submission too (fair share), at its new critical path.
          this.pushEntries(rec, now, [sub.id]);
          break;
        case 'cached-failure':
          // Its dependents in this submission were decided above: dependency failed.
          events.push(this.event(rec, this.statusOf(rec), now, undefined, `cached failure from ${Math.round((now - rec.failure!.at) / 1000)} s ago (farm retry runs it again): ${rec.reason ?? ''}`));
          break;
      }
    }
    this.checkSubmissionDone(sub, now, events);
    return { submissionId: sub.id, jobs: sub.jobs.size, alreadyValid, shared, events };
  }

  registerAgent(agentId: string, caps: AgentCapabilities): SchedulerEvent[] {
    const before = this.agents.get(agentId);
    if (before !== undefined && !before.draining) this.totalSlots -= before.caps.maxJobs;
    this.agents.set(agentId, { id: agentId, caps, running: before?.running ?? new Set(), forecast: before?.forecast ?? new SlotForecast(), fits: new Map(), draining: false, waitingSlots: 0 });
    this.totalSlots += caps.maxJobs;
    this.placement.agentsChanged();
    return this.refreshCapacity();
  }

  /** The agent is gone: its leases return to the queue under new epochs (an infrastructure failure of each). */
  removeAgent(agentId: string): SchedulerEvent[] {
    const agent = this.agents.get(agentId);
    if (agent === undefined) return [];
    const now = this.clock.now();
    const events: SchedulerEvent[] = [];
    for (const jobId of [...agent.running]) {
      const rec = this.jobsById.get(jobId)!;
      this.infrastructureFailure(rec, agentId, rec.job.epoch, `agent ${agentId} was lost while building it`, now, events);
    }
    if (!agent.draining) this.totalSlots -= agent.caps.maxJobs;
    this.agents.delete(agentId);
    this.placement.agentsChanged();
    return [...events, ...this.refreshCapacity()];
  }

  setDraining(agentId: string, draining: boolean): void {
    const agent = this.agents.get(agentId);
    if (agent === undefined || agent.draining === draining) return;
    agent.draining = draining;
    this.totalSlots += draining ? -agent.caps.maxJobs : agent.caps.maxJobs;
  }

  /**
   * Hands the agent up to `freeSlots` of the best ready jobs it fits. Until stopWaiting(), the
   * agent counts as waiting with its remaining free slots. Placement (leaveTo) may leave a job
   * to another agent: one that holds more of its inputs, a slower idle one where it has slack, or
   * a faster one predicted to finish it sooner. `setAside` lists those jobs; `leftForOthers`
   * counts the ones left to waiting agents, which the caller must wake.
   */
  requestWork(agentId: string, freeSlots: number): { assignments: AssignmentOut[]; events: SchedulerEvent[]; leftForOthers: number; setAside: string[] } {
    const agent = this.agents.get(agentId);
    const assignments: AssignmentOut[] = [];
    const events: SchedulerEvent[] = [];
    if (agent === undefined || agent.draining) return { assignments, events, leftForOthers: 0, setAside: [] };
    const now = this.clock.now();
    this.promoteDue(now);
    // freeSlots counts the agent's free build slots; a lease whose build is done but whose
    // outputs are still uploading does not take one, so an agent may hold up to maxJobs such
    // finishing leases on top of maxJobs building ones (pipelining), and never more.
    const slots = Math.max(0, Math.min(freeSlots, 2 * agent.caps.maxJobs - agent.running.size));
    this.placement.setWaiting(agent, slots);
    const deferred: Deferred[] = [];
    const context = newRequestContext(now, this.policy === 'critical-path' ? this.horizonMs(now) : -Infinity);
    while (assignments.length < slots) {
      const pick = this.bestFor(agent, deferred, context);
      if (pick === undefined) break;
      pick.queue.pop();
      const rec = pick.rec;
      this.setJob(rec, this.must(js.assign(rec.job, agentId, now, this.options.leaseMs)));
      rec.reason = undefined;
      rec.backoffUntil = 0;
      this.startLease(agent, rec, now);
      rec.placement = {
        agentId,
        bucket: rec.bucket,
        freeSlots: agent.waitingSlots,
        cpMs: rec.cpMs,
        priority: rec.priority,
        inputBytes: this.inputBytesOn(rec, agentId),
        underShare: pick.under,
        onlyFitting: pick.only,
        failedAgents: rec.failedAgents === undefined ? [] : [...rec.failedAgents],
      };
      rec.lastAgent = agentId;
      this.charge(rec);
      this.placement.setWaiting(agent, agent.waitingSlots - 1);
      assignments.push({ jobId: rec.id, drvPath: rec.node.drvPath, epoch: rec.job.epoch, deadline: rec.job.lease!.deadline });
      events.push(this.event(rec, 'running', now, agentId));
    }
    // Jobs left for better-placed agents go back where they were; the caller wakes the waiting
    // ones among those agents (`leftForOthers` > 0), since nothing else may happen to wake them.
    // A busy agent asks again when its build ends.
    for (const d of deferred) d.queue.push(d.entry);
    return { assignments, events, leftForOthers: deferred.filter((d) => d.toWaiting).length, setAside: deferred.map((d) => d.entry.jobId) };
  }

  /** The agent's work request is over (answered, timed out, or gone). */
  stopWaiting(agentId: string): void {
    const agent = this.agents.get(agentId);
    if (agent !== undefined) this.placement.setWaiting(agent, 0);
  }

  /** When the next job in retry backoff becomes due (the caller wakes waiting agents then). */
  nextDueAt(): number | undefined {
    for (let head = this.delayed.peek(); head !== undefined; head = this.delayed.peek()) {
      if (this.isCurrent(head)) return head.readyAt;
      this.delayed.pop();
    }
    return undefined;
  }

  /** Renews the agent's leases; returns those it no longer holds (it must kill those builds). */
  heartbeat(agentId: string, leases: readonly { jobId: string; epoch: number }[]): { renewed: typeof leases; revoked: typeof leases } {
    const now = this.clock.now();
    const renewed: { jobId: string; epoch: number }[] = [];
    const revoked: { jobId: string; epoch: number }[] = [];
    for (const lease of leases) {
      const rec = this.jobsById.get(lease.jobId);
      const t = rec === undefined ? undefined : js.renew(rec.job, agentId, lease.epoch, now, this.options.leaseMs);
      if (rec !== undefined && t !== undefined && t.ok) {
        this.setJob(rec, t.job);
        renewed.push(lease);
      } else revoked.push(lease);
    }
    return { renewed, revoked };
  }

  /** Leases past their deadline go back to the queue under a new epoch (an infrastructure failure). */
  expireLeases(): SchedulerEvent[] {
    const now = this.clock.now();
    const events: SchedulerEvent[] = [];
    for (const agent of this.agents.values()) {
      for (const jobId of [...agent.running]) {
        const rec = this.jobsById.get(jobId)!;
        const t = js.expire(rec.job, now);
        if (!t.ok) continue;
        this.endLease(agent, rec);
        this.uncharge(rec);
        this.setJob(rec, t.job);
        this.afterFailedAttempt(rec, agent.id, `lease of agent ${agent.id} expired (no heartbeat)`, now, events);
      }
    }
    return events;
  }

  /** Applies a build result; refused (with the reason) unless it comes from the current lease. */
  complete(jobId: string, agentId: string, epoch: number, outcome: BuildOutcome): { accepted: boolean; reason?: string; events: SchedulerEvent[] } {
    const rec = this.jobsById.get(jobId);
    if (rec === undefined) return { accepted: false, reason: `unknown job ${jobId}`, events: [] };
    const now = this.clock.now();
    const events: SchedulerEvent[] = [];
    if (outcome.kind === 'infrastructure-failure') {
      const fenced = js.release(rec.job, agentId, epoch);
      if (!fenced.ok) return { accepted: false, reason: fenced.reason, events };
      this.infrastructureFailure(rec, agentId, epoch, outcome.message, now, events);
      return { accepted: true, events };
    }
    const t = js.complete(rec.job, agentId, epoch, outcome.kind === 'built');
    if (!t.ok) return { accepted: false, reason: t.reason, events };
    this.endLease(this.agents.get(agentId), rec);
    this.uncharge(rec);
    this.setJob(rec, t.job);
    if (outcome.kind === 'built') {
      // Learned as time on a speed-factor-1 agent, so estimates from fast and slow agents agree.
      const a = this.agents.get(agentId);
      const speed = a === undefined ? 1 : speedOf(a);
      this.durations.observe(rec.node.drvPath, rec.node.system, (now - rec.assignedAt) * speed);
      // The agent's store now holds the outputs and every input it fetched to build them.
      (rec.holders ??= new Set()).add(agentId);
      if (outcome.outputBytes !== undefined && Number.isFinite(outcome.outputBytes) && outcome.outputBytes >= 0) rec.outputBytes = outcome.outputBytes;
      for (const i of rec.node.inputDrvs) {
        const input = this.jobsByDrv.get(i);
        if (input !== undefined) (input.holders ??= new Set()).add(agentId);
      }
      events.push(this.event(rec, 'succeeded', now, agentId));
      for (const d of rec.dependents) {
        const dep = this.jobsByDrv.get(d)!;
        if (dep.job.state !== 'waiting') continue;
        dep.pending--;
        if (dep.pending === 0) {
          this.setJob(dep, this.must(js.markReady(dep.job)));
          this.updateCriticalPath(dep);
          this.enqueue(dep, now, events);
        }
      }
    } else {
      rec.reason = outcome.message;
      rec.failure = { kind: 'build', at: now };
      events.push(this.event(rec, 'failed', now, agentId, outcome.message));
      this.failDependents(rec, now, events);
    }
    for (const s of rec.submissions) this.checkSubmissionDone(this.submissions.get(s)!, now, events);
    return { accepted: true, events };
  }

  /**
   * Cancels a submission: every unfinished job that no other live submission needs is cancelled
   * (`revoke` lists the running ones, whose agents must kill them); the others are left running
   * with the submissions that still need them.
   */
  cancel(submissionId: string): { cancelled: string[]; leftRunning: Map<string, string>; revoke: AssignmentOut[]; events: SchedulerEvent[] } {
    const sub = this.submissions.get(submissionId);
    const result = { cancelled: [] as string[], leftRunning: new Map<string, string>(), revoke: [] as AssignmentOut[], events: [] as SchedulerEvent[] };
    if (sub === undefined || sub.done) return result;
    const now = this.clock.now();
    this.markDone(sub);
    for (const jobId of sub.jobs) {
      const rec = this.jobsById.get(jobId)!;
      rec.submissions.delete(submissionId);
      if (js.TERMINAL_STATES.has(rec.job.state)) continue;
      const others = [...rec.submissions].filter((s) => !this.submissions.get(s)!.done);
      if (others.length > 0) {
        result.leftRunning.set(rec.node.drvPath, `still needed by submission ${others.join(', ')}`);
        continue;
      }
      const lease = rec.job.lease;
      if (lease !== undefined && rec.job.state === 'leased') {
        result.revoke.push({ jobId, drvPath: rec.node.drvPath, epoch: lease.epoch, deadline: lease.deadline });
        this.endLease(this.agents.get(lease.agentId), rec);
        this.uncharge(rec);
      }
      this.setJob(rec, this.must(js.cancel(rec.job)));
      result.cancelled.push(rec.node.drvPath);
      result.events.push(this.event(rec, 'cancelled', now, undefined, `submission ${submissionId} was cancelled`));
    }
    result.events.push({ type: 'submission-done', submissionId, succeeded: 0, failed: 0, at: now });
    return result;
  }

  /**
   * Restart recovery: a waiting or ready job whose build failure was recorded before the restart
   * fails again with the recorded reason (its dependents fail as after complete()), instead of
   * being built a second time for the same submissions.
   */
  restoreFailure(jobId: string, reason: string): SchedulerEvent[] {
    const rec = this.jobsById.get(jobId);
    if (rec === undefined || (rec.job.state !== 'waiting' && rec.job.state !== 'ready')) return [];
    const now = this.clock.now();
    const events: SchedulerEvent[] = [];
    this.setJob(rec, this.must(js.failUnstarted(rec.job)));
    rec.dependencyFailed = false;
    rec.reason = reason;
    events.push(this.event(rec, 'failed', now, undefined, reason));
    this.failDependents(rec, now, events);
    for (const s of rec.submissions) this.checkSubmissionDone(this.submissions.get(s)!, now, events);
    return events;
  }

  /**
   * Restart recovery: a registered agent still runs the job under `epoch` from before the
   * restart. If the job is ready at exactly that epoch (nobody else was given it since), the
   * lease is re-adopted under the same epoch; otherwise nothing changes (the agent's next
   * heartbeat gets the lease revoked).
   */
  adoptLease(jobId: string, agentId: string, epoch: number): { adopted: boolean; events: SchedulerEvent[] } {
    const rec = this.jobsById.get(jobId);
    const agent = this.agents.get(agentId);
    if (rec === undefined || agent === undefined || rec.job.state !== 'ready' || rec.job.epoch !== epoch) return { adopted: false, events: [] };
    const now = this.clock.now();
    // Its queue entries (same epoch, no longer ready) are skipped lazily.
    this.setJob(rec, { state: 'leased', epoch, attempts: rec.job.attempts + 1, lease: { agentId, epoch, deadline: now + this.options.leaseMs } });
    rec.reason = undefined;
    rec.lastAgent = agentId;
    this.startLease(agent, rec, now);
    this.charge(rec);
    return { adopted: true, events: [this.event(rec, 'running', now, agentId)] };
  }

  /** The job's current status and reason, for `farm explain` and status views. */
  jobStatus(jobId: string): JobEvent | undefined {
    const rec = this.jobsById.get(jobId);
    return rec === undefined ? undefined : this.event(rec, this.statusOf(rec), this.clock.now(), rec.job.lease?.agentId, this.reasonOf(rec));
  }

  /**
   * Why the job is where it is, for `farm explain`: a waiting job names the inputs it waits for;
   * a ready one says that no agent fits (and what the agents offer), that it is backing off after
   * a failure, or that the fitting agents are busy and where it stands in their queue; a running
   * or finished one says which agent got it and why. O(queue) for a ready job (its position).
   */
  explain(jobId: string): Explanation | undefined {
    const rec = this.jobsById.get(jobId);
    if (rec === undefined) return undefined;
    const now = this.clock.now();
    const status = this.statusOf(rec);
    const details: string[] = [];
    let summary: string;
    let waitingFor: { drvPath: string; status: JobStatus }[] = [];
    let agents: AgentView[] = [];
    let position: number | undefined;
    const agentId = rec.job.lease?.agentId ?? rec.lastAgent;
    const placement = rec.placement === undefined ? undefined : this.placementReason(rec.placement);
    switch (status) {
      case 'waiting': {
        waitingFor = rec.node.inputDrvs
          .map((d) => this.jobsByDrv.get(d))
          .filter((j): j is JobRecord => j !== undefined && j.job.state !== 'succeeded')
          .map((j) => ({ drvPath: j.node.drvPath, status: this.statusOf(j) }));
        summary = `waiting for ${waitingFor.length} input derivation${waitingFor.length === 1 ? '' : 's'} to be built`;
        for (const w of waitingFor) details.push(`input ${w.drvPath}: ${w.status}`);
        break;
      }
      case 'ready': {
        agents = [...this.agents.values()].map((a) => this.agentView(a, rec.bucket));
        const fitting = agents.filter((a) => a.fits && !a.draining);
        const problem = this.bucketProblem.get(rec.bucket);
        if (problem !== undefined) {
          summary = problem;
          for (const a of agents) details.push(`agent ${a.agentId} offers ${a.systems.join(', ')}${a.supportedFeatures.length > 0 ? ` with {${a.supportedFeatures.join(', ')}}` : ''}${a.mandatoryFeatures.length > 0 ? `, mandatory {${a.mandatoryFeatures.join(', ')}}` : ''}`);
        } else if (rec.backoffUntil > now) {
          summary = `backing off after an infrastructure failure until ${new Date(rec.backoffUntil).toISOString()} (${Math.ceil((rec.backoffUntil - now) / 1000)} s)`;
          if (rec.reason !== undefined) details.push(rec.reason);
        } else if (fitting.length === 0) {
          summary = `the agents that fit it are all draining (${agents.filter((a) => a.fits).map((a) => a.agentId).join(', ')})`;
        } else {
          position = this.positionOf(rec);
          const busy = fitting.filter((a) => a.running >= a.maxJobs).length;
          const left = rec.leftFor;
          summary =
            left !== undefined && this.agents.has(left.agentId)
              ? `held for the faster agent ${left.agentId}: its next slot is predicted free ${this.inSeconds(left.slotFreeAt, now)} and it would finish the job ${this.inSeconds(left.finishAt, now)}, sooner than ${left.by} (asking ${Math.round((now - left.at) / 1000)} s ago) would have (${this.inSeconds(left.byFinishAt, now)}); number ${position} in the queue`
              : busy === fitting.length
              ? `all ${fitting.length} fitting agent${fitting.length === 1 ? ' is' : 's are'} busy; it is number ${position} in their queue`
              : `queued as number ${position} for ${fitting.length} fitting agent${fitting.length === 1 ? '' : 's'} (${fitting.length - busy} with free slots: it goes out on their next work request)`;
          for (const a of fitting) details.push(`agent ${a.agentId}: ${a.running} of ${a.maxJobs} slots busy`);
        }
        break;
      }
      case 'running':
        summary = `running on ${agentId} under lease epoch ${rec.job.epoch}`;
        if (placement !== undefined) details.push(`why ${agentId}: ${placement}`);
        break;
      default:
        summary = `${status}${agentId !== undefined && status !== 'dependency-failed' && status !== 'cancelled' ? ` on ${agentId}` : ''}${rec.reason !== undefined ? `: ${rec.reason}` : ''}`;
        if (placement !== undefined) details.push(`last placement: ${placement}`);
    }
    if (rec.failedAgents !== undefined && rec.failedAgents.size > 0) details.push(`infrastructure failures on: ${[...rec.failedAgents].sort().join(', ')}`);
    const estimateMs = this.durations.estimateMs(rec.node.drvPath, rec.node.system);
    details.push(`predicted build time ${(estimateMs / 1000).toFixed(1)} s; predicted remaining critical path ${(rec.cpMs / 1000).toFixed(1)} s; priority ${rec.priority}`);
    return {
      jobId: rec.id,
      drvPath: rec.node.drvPath,
      status,
      epoch: rec.job.epoch,
      attempts: rec.job.attempts,
      submissions: [...rec.submissions],
      summary,
      details,
      waitingFor,
      agents,
      ...(position !== undefined ? { position } : {}),
      ...(rec.backoffUntil > now ? { backoffUntil: rec.backoffUntil } : {}),
      failedAgents: [...(rec.failedAgents ?? [])].sort(),
      ...(agentId !== undefined ? { agentId } : {}),
      ...(placement !== undefined ? { placement } : {}),
      criticalPathMs: rec.cpMs,
      estimateMs,
      priority: rec.priority,
    };
  }

  /**
   * `farm retry`: the job's failure (a cached build failure, poison, or an infrastructure failure
   * given up on) is forgotten, so the next submission that needs it builds it again — with its
   * dependents, which restart because their input is no longer failed. Returns whether there was
   * a failure to forget (false for a job that is not failed, or failed only as a dependent).
   */
  forgetFailure(jobId: string): boolean {
    const rec = this.jobsById.get(jobId);
    if (rec === undefined || rec.job.state !== 'failed' || rec.dependencyFailed) return false;
    rec.failure = undefined;
    rec.failedAgents = undefined;
    return true;
  }

  /** The failed jobs (not dependency-failed) of a submission, for `farm retry <submission>`. */
  failedJobsOf(submissionId: string): string[] {
    const sub = this.submissions.get(submissionId);
    if (sub === undefined) return [];
    return [...sub.jobs].filter((id) => {
      const rec = this.jobsById.get(id)!;
      return rec.job.state === 'failed' && !rec.dependencyFailed;
    });
  }

  /** Who holds the job's lease now (undefined unless it is running): fences uploads and results. */
  leaseHolder(jobId: string): LeaseHolder | undefined {
    const rec = this.jobsById.get(jobId);
    if (rec === undefined || rec.job.state !== 'leased' || rec.job.lease === undefined) return undefined;
    return { agentId: rec.job.lease.agentId, epoch: rec.job.lease.epoch, deadline: rec.job.lease.deadline };
  }

  /** The drv path of a job. */
  drvPathOf(jobId: string): string | undefined {
    return this.jobsById.get(jobId)?.node.drvPath;
  }

  systemOf(jobId: string): string | undefined {
    return this.jobsById.get(jobId)?.node.system;
  }

  jobIdOf(drvPath: string): string | undefined {
    return this.jobsByDrv.get(drvPath)?.id;
  }

  /** The routing bucket of a derivation's job (its system and required features), if it has one. */
  routingOf(drvPath: string): { readonly system: string; readonly requiredFeatures: readonly string[] } | undefined {
    const node = this.jobsByDrv.get(drvPath)?.node;
    return node === undefined ? undefined : { system: node.system, requiredFeatures: node.requiredFeatures };
  }


  // ---- internals ----

  /** Post-order over the not-yet-valid closure, so inputs come before their dependents. */
  private closureInputsFirst(roots: readonly string[], graph: ReadonlyMap<string, DrvNode>, isValid: (d: string) => boolean): string[] {
    const order: string[] = [];
    const seen = new Set<string>();
    const stack: { drv: string; expanded: boolean }[] = roots.map((drv) => ({ drv, expanded: false })).reverse();
    while (stack.length > 0) {
      const top = stack.pop()!;
      if (top.expanded) {
        order.push(top.drv);
        continue;
      }
      if (seen.has(top.drv)) continue;
      seen.add(top.drv);
      const node = graph.get(top.drv);
      if (node === undefined) throw new Error(`derivation ${top.drv} is not in the submitted graph`);
      stack.push({ drv: top.drv, expanded: true });
      if (isValid(top.drv)) continue;
      for (const input of [...node.inputDrvs].reverse()) if (!seen.has(input)) stack.push({ drv: input, expanded: false });
    }
    return order;
  }

  private createJob(node: DrvNode, submissionOrder: number): JobRecord {
    const rec: JobRecord = {
      id: this.options.jobIdFor?.(node.drvPath) ?? this.ids.next('job'),
      node,
      bucket: bucketKey(node),
      // A new job starts waiting; submit() decides whether it is ready.
      job: { ...js.newJob(false), epoch: this.options.epochFloorOf?.(node.drvPath) ?? 0 },
      pending: 0,
      dependents: new Set(),
      submissions: new Set(),
      dependencyFailed: false,
      reason: undefined,
      priority: 0,
      cpMs: 0,
      ownMs: 0,
      ownKnown: false,
      predictedEnd: 0,
      leftFor: undefined,
      submissionOrder,
      assignedAt: 0,
      chargedTo: [],
      failedAgents: undefined,
      failure: undefined,
      backoffUntil: 0,
      holders: undefined,
      outputBytes: 0,
      placement: undefined,
      queuedAt: 0,
      lastAgent: undefined,
    };
    if (!this.bucketNeeds.has(rec.bucket)) {
      this.bucketNeeds.set(rec.bucket, { system: node.system, requiredFeatures: node.requiredFeatures });
      this.bucketProblem.set(rec.bucket, capacityProblem(node, this.agentCaps()));
    }
    this.jobsByDrv.set(node.drvPath, rec);
    this.jobsById.set(rec.id, rec);
    return rec;
  }

  /**
   * The job's predicted remaining critical path: its own predicted duration plus the longest of
   * its unfinished dependents' (whose values are current: dependents are updated first, and a
   * dependent's value only changes when it is admitted or becomes ready). O(dependents).
   */
  private updateCriticalPath(rec: JobRecord): void {
    let longest = 0;
    for (const d of rec.dependents) {
      const dep = this.jobsByDrv.get(d)!;
      if (!js.TERMINAL_STATES.has(dep.job.state) && dep.cpMs > longest) longest = dep.cpMs;
    }
    const own = this.durations.estimateMs(rec.node.drvPath, rec.node.system);
    rec.ownMs = Number.isFinite(own) && own > 0 ? own : 0;
    rec.ownKnown = this.durations.knows?.(rec.node.drvPath, rec.node.system) === true;
    rec.cpMs = rec.ownMs + longest;
  }

  private enqueue(rec: JobRecord, now: number, events: SchedulerEvent[], reason?: string): void {
    if (rec.job.state === 'waiting') this.setJob(rec, this.must(js.markReady(rec.job)));
    rec.reason = reason;
    this.pushEntries(rec, now);
    events.push(this.event(rec, 'ready', now, undefined, this.reasonOf(rec)));
  }

  /** Queue entries for a ready job: one per live submission that needs it (or one, without fair share). */
  private pushEntries(rec: JobRecord, now: number, only?: readonly string[]): void {
    const keys = !this.fairShare ? [ALL] : (only ?? [...rec.submissions].filter((s) => !this.submissions.get(s)!.done));
    let byOwner = this.queues.get(rec.bucket);
    if (byOwner === undefined) this.queues.set(rec.bucket, (byOwner = new Map()));
    rec.queuedAt = now;
    const entry = this.entryOf(rec, now, this.seq++);
    for (const key of keys) {
      let queue = byOwner.get(key);
      if (queue === undefined) byOwner.set(key, (queue = new ReadyQueue(this.better)));
      queue.push(entry);
    }
  }

  /** The job as a queue entry under its current epoch and keys. */
  private entryOf(rec: JobRecord, readyAt: number, seq: number): QueueEntry {
    return { jobId: rec.id, epoch: rec.job.epoch, cpMs: rec.cpMs, priority: rec.priority, readyAt, submissionOrder: rec.submissionOrder, rdeps: rec.dependents.size, seq };
  }

  /** Jobs whose backoff is over join the ready queues. */
  private promoteDue(now: number): void {
    for (let head = this.delayed.peek(); head !== undefined && head.readyAt <= now; head = this.delayed.peek()) {
      this.delayed.pop();
      const rec = this.jobsById.get(head.jobId)!;
      if (this.isCurrent(head)) this.pushEntries(rec, head.readyAt);
    }
  }

  /** Whether the job is leased under the entry's epoch still. */
  private isLeased(entry: { readonly jobId: string; readonly epoch: number }): boolean {
    const rec = this.jobsById.get(entry.jobId);
    return rec !== undefined && rec.job.state === 'leased' && rec.job.epoch === entry.epoch;
  }

  private isCurrent(entry: QueueEntry): boolean {
    const rec = this.jobsById.get(entry.jobId)!;
    return rec.job.state === 'ready' && rec.job.epoch === entry.epoch;
  }

  /**
   * The best ready job for the agent, and the queue it heads. Fair share first: a submission
   * running fewer jobs than its share of the slots (total slots ÷ live submissions, at least 1)
   * beats one at or over its share; then ('critical-path') a job of a bucket no other agent fits
   * beats one other agents could take; then the queue order. A job that failed on this agent is
   * left for another fitting agent when there is one that has not failed it.
   */
  private bestFor(agent: AgentRecord, deferred: Deferred[], context: RequestContext): { rec: JobRecord; queue: ReadyQueue; under: boolean; only: boolean } | undefined {
    const share = Math.max(1, Math.floor(this.totalSlots / Math.max(1, this.liveSubmissions)));
    let best: { rec: JobRecord; queue: ReadyQueue; entry: QueueEntry; under: boolean; only: boolean } | undefined;
    for (const [bucket, byOwner] of this.queues) {
      if (!this.fits(agent, bucket)) continue;
      // Work only this agent can do goes before work others can take: a sole agent for a bucket
      // that spends itself on shared work leaves its own queue waiting (on the makespan benchmark,
      // seed 2, the one aarch64+big agent took plain aarch64 jobs and the mixed DAG reached 1.18×).
      const only = this.fairShare && this.placement.onlyAgentFor(bucket, agent);
      for (const [owner, queue] of byOwner) {
        const head = this.cleanHead(queue, agent, deferred, context);
        if (head === undefined) {
          // Empty queues go, unless entries set aside for other agents return to them.
          if (queue.size === 0 && !deferred.some((d) => d.queue === queue)) byOwner.delete(owner);
          continue;
        }
        const sub = owner === ALL ? undefined : this.submissions.get(owner);
        if (sub !== undefined && sub.done) {
          byOwner.delete(owner);
          continue;
        }
        const under = sub === undefined || sub.running < share;
        const better = best === undefined || (under && !best.under) || (under === best.under && ((only && !best.only) || (only === best.only && this.better(head, best.entry))));
        if (better) best = { rec: this.jobsById.get(head.jobId)!, queue, entry: head, under, only };
      }
      if (byOwner.size === 0) this.queues.delete(bucket);
    }
    return best === undefined ? undefined : { rec: best.rec, queue: best.queue, under: best.under, only: best.only };
  }

  /**
   * Drops stale entries from the head and returns the first job this agent should take. A job
   * this agent failed, when another fitting agent has not, and a job another agent is better
   * placed for (leaveTo), are set aside in `deferred` (at most MAX_DEFERRED per queue and
   * request, so a request stays cheap; past that the agent takes the job anyway).
   */
  private cleanHead(queue: ReadyQueue, agent: AgentRecord, deferred: Deferred[], context: RequestContext): QueueEntry | undefined {
    let setAside = 0;
    for (let head = queue.peek(); head !== undefined; head = queue.peek()) {
      if (!this.isCurrent(head)) {
        queue.pop();
        continue;
      }
      const rec = this.jobsById.get(head.jobId)!;
      if (setAside >= (rec.ownKnown ? MAX_DEFERRED : MAX_DEFERRED_UNTIMED)) return head;
      let toWaiting: boolean;
      if (rec.failedAgents?.has(agent.id) === true && this.someOtherAgentCouldTake(rec, agent.id)) toWaiting = true;
      else {
        const to = this.placement.leaveTo(rec, agent, context, this.heldInputBytes(rec));
        if (to === undefined) return head;
        toWaiting = to.waitingSlots > 0;
      }
      deferred.push({ queue, entry: queue.pop()!, toWaiting });
      setAside++;
    }
    return undefined;
  }

  /** Input bytes of the job already in the agent's store. O(inputs). */
  private inputBytesOn(rec: JobRecord, agentId: string): number {
    let bytes = 0;
    for (const i of rec.node.inputDrvs) {
      const input = this.jobsByDrv.get(i);
      if (input?.holders?.has(agentId) === true) bytes += input.outputBytes;
    }
    return bytes;
  }

  /** Agent id → bytes of the job's inputs its store holds, for the agents holding any. O(inputs × holders). */
  private heldInputBytes(rec: JobRecord): ReadonlyMap<string, number> {
    let held: Map<string, number> | undefined;
    for (const i of rec.node.inputDrvs) {
      const input = this.jobsByDrv.get(i);
      if (input === undefined || input.outputBytes <= 0 || input.holders === undefined) continue;
      for (const agentId of input.holders) {
        held ??= new Map();
        held.set(agentId, (held.get(agentId) ?? 0) + input.outputBytes);
      }
    }
    return held ?? NO_HELD_INPUTS;
  }

  /**
   * The longest predicted remaining critical path, ms from now: among the ready jobs, each at the
   * fastest speed fitting it (the queue heads': in 'critical-path' order a head has its queue's
   * longest path), and among the leased ones (leasedPaths). O(queues), plus the leases found over.
   */
  private horizonMs(now: number): number {
    for (let head = this.leasedPaths.peek(); head !== undefined && !this.isLeased(head); head = this.leasedPaths.peek()) this.leasedPaths.pop();
    let horizon = Math.max(0, (this.leasedPaths.peek()?.endsAt ?? now) - now);
    for (const [bucket, byOwner] of this.queues) {
      const fastest = this.placement.fastestSpeedFor(bucket);
      for (const queue of byOwner.values()) {
        let head = queue.peek();
        while (head !== undefined && !this.isCurrent(head)) {
          queue.pop();
          head = queue.peek();
        }
        if (head !== undefined) horizon = Math.max(horizon, head.cpMs / fastest);
      }
    }
    return horizon;
  }

  private placementReason(p: Placement): string {
    const parts = [
      `${p.agentId} asked for work with ${p.freeSlots} free slot${p.freeSlots === 1 ? '' : 's'} and fits ${p.bucket}`,
      `this was the best ready job it fits (predicted critical path ${(p.cpMs / 1000).toFixed(1)} s, priority ${p.priority})`,
      p.inputBytes > 0 ? `it already held ${p.inputBytes} bytes of the inputs` : 'no other agent was better placed (more of its inputs, slack on a slower idle agent, a sooner predicted finish, or more free capacity at the same speed)',
    ];
    if (this.fairShare) parts.push(p.underShare ? 'its submission was under its fair share' : 'every submission with ready work had its fair share');
    if (p.onlyFitting) parts.push(`no other agent fits ${p.bucket}, so its jobs go before work other agents could take`);
    if (p.failedAgents.length > 0) parts.push(`earlier attempts failed on ${[...p.failedAgents].sort().join(', ')}`);
    return parts.join('; ');
  }

  private someOtherAgentCouldTake(rec: JobRecord, except: string): boolean {
    for (const a of this.agents.values()) {
      if (a.id === except || a.draining || rec.failedAgents?.has(a.id)) continue;
      if (this.fits(a, rec.bucket)) return true;
    }
    return false;
  }

  /** The job's lease on `agent` begins now: the agent's forecast gets its predicted end. */
  private startLease(agent: AgentRecord, rec: JobRecord, now: number): void {
    rec.assignedAt = now;
    rec.leftFor = undefined;
    rec.predictedEnd = now + rec.ownMs / speedOf(agent);
    agent.running.add(rec.id);
    agent.forecast.add(rec.predictedEnd);
    this.leaseCount++;
    if (this.policy !== 'critical-path') return;
    // Entries of ended leases below a long one's stay until it ends: rebuild past 2 × the leases.
    if (this.leasedPaths.size > 64 + 2 * this.leaseCount) {
      const current = this.leasedPaths.entries().filter((e) => this.isLeased(e));
      while (this.leasedPaths.size > 0) this.leasedPaths.pop();
      for (const e of current) this.leasedPaths.push(e);
    }
    this.leasedPaths.push({ endsAt: rec.predictedEnd + (rec.cpMs - rec.ownMs) / this.placement.fastestSpeedFor(rec.bucket), jobId: rec.id, epoch: rec.job.epoch });
  }

  /** The job's lease on `agent` is over (built, failed, expired, revoked). */
  private endLease(agent: AgentRecord | undefined, rec: JobRecord): void {
    if (agent === undefined || !agent.running.delete(rec.id)) return;
    agent.forecast.remove(rec.predictedEnd);
    this.leaseCount--;
  }

  /** A predicted time as words relative to now ("in 12 s", "3 s ago"). */
  private inSeconds(at: number, now: number): string {
    const s = Math.round((at - now) / 1000);
    return s >= 0 ? `in ${s} s` : `${-s} s ago`;
  }

  private charge(rec: JobRecord): void {
    rec.chargedTo = [...rec.submissions];
    for (const s of rec.chargedTo) this.submissions.get(s)!.running++;
  }

  private uncharge(rec: JobRecord): void {
    for (const s of rec.chargedTo) this.submissions.get(s)!.running--;
    rec.chargedTo = [];
  }

  private markDone(sub: SubmissionRecord): void {
    if (sub.done) return;
    sub.done = true;
    this.liveSubmissions--;
  }

  /** A leased job's attempt failed for infrastructure reasons (reported, agent lost): fence the lease, then retry or give up. */
  private infrastructureFailure(rec: JobRecord, agentId: string, epoch: number, message: string, now: number, events: SchedulerEvent[]): void {
    const released = js.release(rec.job, agentId, epoch);
    if (!released.ok) return;
    this.endLease(this.agents.get(agentId), rec);
    this.uncharge(rec);
    this.setJob(rec, released.job);
    this.afterFailedAttempt(rec, agentId, message, now, events);
  }

  /** The job is ready again under a new epoch after a failed attempt on `agentId`: back off, poison, or give up. */
  private afterFailedAttempt(rec: JobRecord, agentId: string, message: string, now: number, events: SchedulerEvent[]): void {
    (rec.failedAgents ??= new Set()).add(agentId);
    const next = afterInfrastructureFailure(rec.failedAgents, rec.job.attempts, message, now, this.retry);
    if (next.action !== 'retry') {
      this.setJob(rec, this.must(js.failUnstarted(rec.job)));
      rec.dependencyFailed = false;
      rec.reason = next.action === 'poison' ? next.reason : message;
      rec.failure = { kind: next.action === 'poison' ? 'poison' : 'infrastructure', at: now };
      events.push(this.event(rec, 'failed', now, agentId, rec.reason));
      this.failDependents(rec, now, events);
      for (const s of rec.submissions) this.checkSubmissionDone(this.submissions.get(s)!, now, events);
      return;
    }
    rec.backoffUntil = next.notBefore;
    rec.reason = `retrying after an infrastructure failure on ${agentId} (attempt ${rec.job.attempts} of ${this.retry.maxAttempts}), not before ${new Date(next.notBefore).toISOString()}: ${message}`;
    this.delayed.push(this.entryOf(rec, next.notBefore, this.seq++));
    events.push(this.event(rec, 'ready', now, undefined, rec.reason));
  }

  /** A build failure within its TTL, or poison: reused for new submissions instead of building again. */
  private cachedFailure(rec: JobRecord, now: number): boolean {
    if (rec.job.state !== 'failed' || rec.dependencyFailed || rec.failure === undefined) return false;
    if (rec.failure.kind === 'poison') return true;
    return rec.failure.kind === 'build' && now - rec.failure.at < this.retry.failureTtlMs;
  }

  private failDependents(failed: JobRecord, now: number, events: SchedulerEvent[]): void {
    const stack = [...failed.dependents];
    while (stack.length > 0) {
      const rec = this.jobsByDrv.get(stack.pop()!)!;
      if (rec.job.state !== 'waiting' && rec.job.state !== 'ready') continue;
      this.failAsDependent(rec, failed.node.drvPath, now, events);
      stack.push(...rec.dependents);
    }
  }

  private failAsDependent(rec: JobRecord, failedDrv: string, now: number, events: SchedulerEvent[]): void {
    this.setJob(rec, this.must(js.failUnstarted(rec.job)));
    rec.dependencyFailed = true;
    rec.reason = `dependency failed: ${failedDrv}`;
    events.push(this.event(rec, 'dependency-failed', now, undefined, rec.reason));
  }

  /** O(1): the submission's counters say whether anything of it is unfinished. */
  private checkSubmissionDone(sub: SubmissionRecord, now: number, events: SchedulerEvent[]): void {
    if (sub.done || sub.remaining > 0) return;
    this.markDone(sub);
    events.push({ type: 'submission-done', submissionId: sub.id, succeeded: sub.succeeded, failed: sub.failed, at: now });
  }

  /** The job joins the submission, counted by its current state. */
  private addToSubmission(rec: JobRecord, sub: SubmissionRecord): void {
    if (sub.jobs.has(rec.id)) return;
    rec.submissions.add(sub.id);
    sub.jobs.add(rec.id);
    this.count(sub, rec.job.state, 1);
  }

  /**
   * Every change of a job's state goes through here, so the live submissions' counters follow
   * a job into and out of the finished states (a failed job restarted for a newer submission is
   * unfinished again for the live ones that share it).
   */
  private setJob(rec: JobRecord, job: js.Job): void {
    const before = rec.job.state;
    rec.job = job;
    if (js.TERMINAL_STATES.has(before) === js.TERMINAL_STATES.has(job.state) && (before === 'succeeded') === (job.state === 'succeeded')) return;
    for (const id of rec.submissions) {
      const sub = this.submissions.get(id)!;
      if (sub.done) continue;
      this.count(sub, before, -1);
      this.count(sub, job.state, 1);
    }
  }

  private count(sub: SubmissionRecord, state: js.JobState, delta: number): void {
    if (state === 'succeeded') sub.succeeded += delta;
    else if (state === 'failed' || state === 'cancelled') sub.failed += delta;
    else sub.remaining += delta;
  }

  private refreshCapacity(): SchedulerEvent[] {
    const now = this.clock.now();
    const events: SchedulerEvent[] = [];
    const caps = this.agentCaps();
    const changed = new Set<string>();
    for (const [bucket, needs] of this.bucketNeeds) {
      const problem = capacityProblem(needs, caps);
      if (problem !== this.bucketProblem.get(bucket)) changed.add(bucket);
      this.bucketProblem.set(bucket, problem);
    }
    if (changed.size === 0) return events;
    for (const rec of this.jobsById.values()) {
      if (rec.job.state === 'ready' && changed.has(rec.bucket)) events.push(this.event(rec, 'ready', now, undefined, this.reasonOf(rec)));
    }
    return events;
  }

  /** Whether the agent can ever build the bucket's jobs, computed once per (agent, bucket). */
  private fits(agent: AgentRecord, bucket: string): boolean {
    let fits = agent.fits.get(bucket);
    if (fits === undefined) agent.fits.set(bucket, (fits = agentFits(agent.caps, this.bucketNeeds.get(bucket)!)));
    return fits;
  }

  private agentView(a: AgentRecord, bucket: string): AgentView {
    const fits = this.fits(a, bucket);
    return {
      agentId: a.id,
      systems: a.caps.systems,
      supportedFeatures: a.caps.supportedFeatures,
      mandatoryFeatures: a.caps.mandatoryFeatures,
      maxJobs: a.caps.maxJobs,
      running: a.running.size,
      draining: a.draining,
      fits,
    };
  }

  /**
   * 1 + the number of distinct ready jobs in the same bucket that go before it in the queue
   * order (fair share aside: it changes with every assignment). O(entries in the bucket).
   */
  private positionOf(rec: JobRecord): number {
    const mine = this.entryOf(rec, rec.queuedAt, Number.MAX_SAFE_INTEGER);
    const ahead = new Set<string>();
    for (const queue of this.queues.get(rec.bucket)?.values() ?? []) {
      for (const e of queue.entries()) {
        if (e.jobId !== rec.id && this.isCurrent(e) && this.better(e, mine)) ahead.add(e.jobId);
      }
    }
    return ahead.size + 1;
  }

  private agentCaps(): AgentCapabilities[] {
    return [...this.agents.values()].map((a) => a.caps);
  }

  private isFinishedUnsuccessfully(rec: JobRecord): boolean {
    return rec.job.state === 'failed' || rec.job.state === 'cancelled';
  }

  private statusOf(rec: JobRecord): JobStatus {
    switch (rec.job.state) {
      case 'leased':
        return 'running';
      case 'failed':
        return rec.dependencyFailed ? 'dependency-failed' : 'failed';
      default:
        return rec.job.state;
    }
  }

  private reasonOf(rec: JobRecord): string | undefined {
    if (rec.job.state === 'ready') return this.bucketProblem.get(rec.bucket) ?? rec.reason;
    if (rec.job.state === 'waiting') return `waiting for ${rec.pending} input derivation${rec.pending === 1 ? '' : 's'}`;
    return rec.reason;
  }

  private event(rec: JobRecord, status: JobStatus, at: number, agentId?: string, reason?: string): JobEvent {
    return {
      type: 'job',
      jobId: rec.id,
      drvPath: rec.node.drvPath,
      status,
      epoch: rec.job.epoch,
      ...(agentId !== undefined ? { agentId } : {}),
      ...(reason !== undefined ? { reason } : {}),
      submissions: [...rec.submissions],
      at,
    };
  }

  private must(t: js.Transition): js.Job {
    if (!t.ok) throw new Error(`scheduler invariant broken: ${t.reason}`);
    return t.job;
  }
}
