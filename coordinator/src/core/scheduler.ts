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
 * - a ready job sits in exactly one bucket queue (routing needs); stale queue entries (epoch
 *   changed) are skipped lazily;
 * - leases carry epochs (job-state.ts): results from any other (agent, epoch) are refused;
 * - a build failure fails exactly the transitive dependents (`dependency-failed`), nothing else.
 * Costs: submit O(closure); requestWork O(fitting buckets + k log n); complete O(dependents).
 */
import type { Clock, IdGenerator } from '@farm/common';
import * as js from './job-state.js';
import { ReadyQueue } from './ready-queue.js';
import { agentFits, bucketKey, capacityProblem, type AgentCapabilities, type RoutingNeeds } from './routing.js';
import type {
  AssignmentOut,
  BuildOutcome,
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
}

interface SubmissionRecord {
  readonly id: string;
  readonly jobs: Set<string>;
  readonly priority: number;
  done: boolean;
}

interface AgentRecord {
  readonly id: string;
  readonly caps: AgentCapabilities;
  readonly running: Set<string>;
  readonly fits: Map<string, boolean>;
  draining: boolean;
}

export const DEFAULT_SCHEDULER_OPTIONS: SchedulerOptions = { leaseMs: 15_000, maxAttempts: 3 };

export class Scheduler {
  private readonly jobsByDrv = new Map<string, JobRecord>();
  private readonly jobsById = new Map<string, JobRecord>();
  private readonly submissions = new Map<string, SubmissionRecord>();
  private readonly agents = new Map<string, AgentRecord>();
  private readonly queues = new Map<string, ReadyQueue>();
  private readonly bucketNeeds = new Map<string, RoutingNeeds>();
  private readonly bucketProblem = new Map<string, string | undefined>();
  private seq = 0;
  private readonly options: SchedulerOptions;

  constructor(
    private readonly clock: Clock,
    private readonly ids: IdGenerator,
    options: Partial<SchedulerOptions> = {},
  ) {
    this.options = { ...DEFAULT_SCHEDULER_OPTIONS, ...options };
  }

  /**
   * Admits the closure of `input.roots` described by `graph`; `isValid(drvPath)` says whether all
   * of a derivation's outputs are already valid in the farm store (then neither it nor its inputs
   * need building).
   */
  submit(input: SubmitInput, graph: ReadonlyMap<string, DrvNode>, isValid: (drvPath: string) => boolean): SubmitOutcome {
    const now = this.clock.now();
    if (input.submissionId !== undefined && this.submissions.has(input.submissionId)) {
      throw new Error(`submission ${input.submissionId} already exists`);
    }
    const sub: SubmissionRecord = { id: input.submissionId ?? this.ids.next('sub'), jobs: new Set(), priority: input.priority ?? 0, done: false };
    this.submissions.set(sub.id, sub);
    const events: SchedulerEvent[] = [];
    let alreadyValid = 0;
    let shared = 0;
    for (const drvPath of this.closureInputsFirst(input.roots, graph, isValid)) {
      if (isValid(drvPath)) {
        alreadyValid++;
        continue;
      }
      const existing = this.jobsByDrv.get(drvPath);
      if (existing !== undefined && !this.isFinishedUnsuccessfully(existing)) {
        if (existing.job.state !== 'succeeded') shared++;
        existing.submissions.add(sub.id);
        existing.priority = Math.max(existing.priority, sub.priority);
        sub.jobs.add(existing.id);
        continue;
      }
      const rec = existing ?? this.createJob(graph.get(drvPath)!);
      rec.submissions.add(sub.id);
      rec.priority = Math.max(rec.priority, sub.priority);
      sub.jobs.add(rec.id);
      rec.pending = rec.node.inputDrvs.filter((d) => {
        const input = this.jobsByDrv.get(d);
        return input !== undefined && input.job.state !== 'succeeded' && !isValid(d);
      }).length;
      const failedInput = rec.node.inputDrvs.map((d) => this.jobsByDrv.get(d)).find((j) => j !== undefined && this.isFinishedUnsuccessfully(j));
      if (existing !== undefined) rec.job = this.must(js.restart(existing.job, rec.pending === 0));
      rec.dependencyFailed = false;
      rec.reason = undefined;
      if (failedInput !== undefined) {
        this.failAsDependent(rec, failedInput.node.drvPath, now, events);
      } else if (rec.pending === 0) {
        this.enqueue(rec, now, events);
      } else {
        events.push(this.event(rec, 'waiting', now));
      }
    }
    for (const jobId of sub.jobs) {
      const rec = this.jobsById.get(jobId)!;
      for (const d of rec.node.inputDrvs) this.jobsByDrv.get(d)?.dependents.add(rec.node.drvPath);
    }
    this.checkSubmissionDone(sub, now, events);
    return { submissionId: sub.id, jobs: sub.jobs.size, alreadyValid, shared, events };
  }

  registerAgent(agentId: string, caps: AgentCapabilities): SchedulerEvent[] {
    this.agents.set(agentId, { id: agentId, caps, running: this.agents.get(agentId)?.running ?? new Set(), fits: new Map(), draining: false });
    return this.refreshCapacity();
  }

  /** The agent is gone: its leases return to the queue under new epochs. */
  removeAgent(agentId: string): SchedulerEvent[] {
    const agent = this.agents.get(agentId);
    if (agent === undefined) return [];
    const now = this.clock.now();
    const events: SchedulerEvent[] = [];
    for (const jobId of agent.running) {
      const rec = this.jobsById.get(jobId)!;
      const released = js.release(rec.job, agentId, rec.job.epoch);
      if (released.ok) {
        rec.job = released.job;
        this.enqueue(rec, now, events, `agent ${agentId} was lost; queued again`);
      }
    }
    this.agents.delete(agentId);
    return [...events, ...this.refreshCapacity()];
  }

  setDraining(agentId: string, draining: boolean): void {
    const agent = this.agents.get(agentId);
    if (agent !== undefined) agent.draining = draining;
  }

  /** Hands the agent up to `freeSlots` of the best ready jobs it fits. */
  requestWork(agentId: string, freeSlots: number): { assignments: AssignmentOut[]; events: SchedulerEvent[] } {
    const agent = this.agents.get(agentId);
    const assignments: AssignmentOut[] = [];
    const events: SchedulerEvent[] = [];
    if (agent === undefined || agent.draining) return { assignments, events };
    const now = this.clock.now();
    // freeSlots counts the agent's free build slots; a lease whose build is done but whose
    // outputs are still uploading does not take one, so an agent may hold up to maxJobs such
    // finishing leases on top of maxJobs building ones (pipelining), and never more.
    const slots = Math.min(freeSlots, 2 * agent.caps.maxJobs - agent.running.size);
    while (assignments.length < slots) {
      const best = this.bestHeadFor(agent);
      if (best === undefined) break;
      const rec = best;
      this.queues.get(rec.bucket)!.pop();
      rec.job = this.must(js.assign(rec.job, agentId, now, this.options.leaseMs));
      rec.reason = undefined;
      agent.running.add(rec.id);
      assignments.push({ jobId: rec.id, drvPath: rec.node.drvPath, epoch: rec.job.epoch, deadline: rec.job.lease!.deadline });
      events.push(this.event(rec, 'running', now, agentId));
    }
    return { assignments, events };
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
        rec.job = t.job;
        renewed.push(lease);
      } else revoked.push(lease);
    }
    return { renewed, revoked };
  }

  /** Leases past their deadline go back to the queue under a new epoch. */
  expireLeases(): SchedulerEvent[] {
    const now = this.clock.now();
    const events: SchedulerEvent[] = [];
    for (const agent of this.agents.values()) {
      for (const jobId of [...agent.running]) {
        const rec = this.jobsById.get(jobId)!;
        const t = js.expire(rec.job, now);
        if (!t.ok) continue;
        agent.running.delete(jobId);
        rec.job = t.job;
        this.enqueue(rec, now, events, `lease of agent ${agent.id} expired; queued again`);
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
    if (outcome.kind === 'infrastructure-failure' && rec.job.attempts < this.options.maxAttempts) {
      const t = js.release(rec.job, agentId, epoch);
      if (!t.ok) return { accepted: false, reason: t.reason, events };
      this.agents.get(agentId)?.running.delete(jobId);
      rec.job = t.job;
      this.enqueue(rec, now, events, `retrying after an infrastructure failure: ${outcome.message}`);
      return { accepted: true, events };
    }
    const t = js.complete(rec.job, agentId, epoch, outcome.kind === 'built');
    if (!t.ok) return { accepted: false, reason: t.reason, events };
    this.agents.get(agentId)?.running.delete(jobId);
    rec.job = t.job;
    if (outcome.kind === 'built') {
      events.push(this.event(rec, 'succeeded', now, agentId));
      for (const d of rec.dependents) {
        const dep = this.jobsByDrv.get(d)!;
        if (dep.job.state !== 'waiting') continue;
        dep.pending--;
        if (dep.pending === 0) {
          dep.job = this.must(js.markReady(dep.job));
          this.enqueue(dep, now, events);
        }
      }
    } else {
      rec.reason = outcome.message;
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
    sub.done = true;
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
        this.agents.get(lease.agentId)?.running.delete(jobId);
      }
      rec.job = this.must(js.cancel(rec.job));
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
    rec.job = this.must(js.failUnstarted(rec.job));
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
    // Its queue entry (same epoch, no longer ready) is skipped lazily by bestHeadFor.
    rec.job = { state: 'leased', epoch, attempts: rec.job.attempts + 1, lease: { agentId, epoch, deadline: now + this.options.leaseMs } };
    rec.reason = undefined;
    agent.running.add(jobId);
    return { adopted: true, events: [this.event(rec, 'running', now, agentId)] };
  }

  /** The job's current status and reason, for `farm explain` and status views. */
  jobStatus(jobId: string): JobEvent | undefined {
    const rec = this.jobsById.get(jobId);
    return rec === undefined ? undefined : this.event(rec, this.statusOf(rec), this.clock.now(), rec.job.lease?.agentId, this.reasonOf(rec));
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

  jobIdOf(drvPath: string): string | undefined {
    return this.jobsByDrv.get(drvPath)?.id;
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

  private createJob(node: DrvNode): JobRecord {
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
    };
    if (!this.bucketNeeds.has(rec.bucket)) {
      this.bucketNeeds.set(rec.bucket, { system: node.system, requiredFeatures: node.requiredFeatures });
      this.bucketProblem.set(rec.bucket, capacityProblem(node, this.agentCaps()));
    }
    this.jobsByDrv.set(node.drvPath, rec);
    this.jobsById.set(rec.id, rec);
    return rec;
  }

  private enqueue(rec: JobRecord, now: number, events: SchedulerEvent[], reason?: string): void {
    if (rec.job.state === 'waiting') rec.job = this.must(js.markReady(rec.job));
    let queue = this.queues.get(rec.bucket);
    if (queue === undefined) this.queues.set(rec.bucket, (queue = new ReadyQueue()));
    queue.push({ jobId: rec.id, epoch: rec.job.epoch, priority: rec.priority, readyAt: now, seq: this.seq++ });
    rec.reason = reason;
    events.push(this.event(rec, 'ready', now, undefined, this.reasonOf(rec)));
  }

  private bestHeadFor(agent: AgentRecord): JobRecord | undefined {
    let best: JobRecord | undefined;
    let bestEntry: { priority: number; readyAt: number; seq: number } | undefined;
    for (const [bucket, queue] of this.queues) {
      let fits = agent.fits.get(bucket);
      if (fits === undefined) agent.fits.set(bucket, (fits = agentFits(agent.caps, this.bucketNeeds.get(bucket)!)));
      if (!fits) continue;
      // Drop stale entries (the job left the queue another way, or was re-queued under a new epoch).
      for (let head = queue.peek(); head !== undefined; head = queue.peek()) {
        const rec = this.jobsById.get(head.jobId)!;
        if (rec.job.state === 'ready' && rec.job.epoch === head.epoch) break;
        queue.pop();
      }
      const head = queue.peek();
      if (head === undefined) continue;
      const better =
        bestEntry === undefined ||
        head.priority > bestEntry.priority ||
        (head.priority === bestEntry.priority && (head.readyAt < bestEntry.readyAt || (head.readyAt === bestEntry.readyAt && head.seq < bestEntry.seq)));
      if (better) {
        best = this.jobsById.get(head.jobId);
        bestEntry = head;
      }
    }
    return best;
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
    rec.job = this.must(js.failUnstarted(rec.job));
    rec.dependencyFailed = true;
    rec.reason = `dependency failed: ${failedDrv}`;
    events.push(this.event(rec, 'dependency-failed', now, undefined, rec.reason));
  }

  private checkSubmissionDone(sub: SubmissionRecord, now: number, events: SchedulerEvent[]): void {
    if (sub.done) return;
    let succeeded = 0;
    let failed = 0;
    for (const jobId of sub.jobs) {
      const state = this.jobsById.get(jobId)!.job.state;
      if (state === 'succeeded') succeeded++;
      else if (state === 'failed' || state === 'cancelled') failed++;
      else return;
    }
    sub.done = true;
    events.push({ type: 'submission-done', submissionId: sub.id, succeeded, failed, at: now });
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
