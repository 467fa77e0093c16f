/**
 * FarmService: the coordinator's application layer — FarmStore + the pure Scheduler + durable
 * CoordinatorState. The NATS gateway calls it through AgentApi; the gRPC server calls its client
 * API (submit, watch, status, cancel, …).
 *
 * Construction (daemon/):
 *   const service = await FarmService.open({ store, state, clock, logger, options }); // replays persisted submissions
 *   service.start();   // lease-expiry / lost-agent timer, every min(1000, leaseMs/3) ms
 *   …
 *   await service.close(); // stops timers, resolves pending long polls with no work
 *
 * Invariants:
 * - every change acknowledged to a client or an agent is committed first (journal.ts): submit
 *   returns after the submission and its first events are on disk; an assignment's epoch is on
 *   disk before the WorkReply leaves; a result is acknowledged after its BuildRecord is;
 * - job id = the drv's hash part and epochs continue from the persisted ones, so a restart keeps
 *   log subjects and keeps fencing off results of leases from before it;
 * - `open` replays every submission that was not done, in creation order, under its own id;
 * - nothing a client or an agent sends can crash it: every public method validates and throws
 *   FarmError (INVALID_ARGUMENT, NOT_FOUND, FAILED_PRECONDITION, …).
 */
import { ATTR, FarmError, randomIds, recording, traceparentOf, withSpan, type Clock, type IdGenerator, type Logger, type Span } from '@farm/common';
import { DEFAULT_STORE_DIR, parseStorePath, parseStorePathBaseName } from '@farm/nix';
import type {
  AddDerivationsRequest__Output,
  AddDerivationsResponse,
  AddPathHeader__Output,
  AddPathResponse,
  AgentHello__Output,
  AgentWelcome,
  Assignment,
  BuildRecord,
  BuildResult__Output,
  CancelResponse,
  Capabilities,
  ExplainResponse,
  Heartbeat__Output,
  HeartbeatAck,
  ListAgentsResponse,
  ListBuildsResponse,
  RetryResponse,
  Revoke,
  StatusResponse,
  SubmitRequest__Output,
  SubmitResponse,
  WorkReply,
  WorkRequest__Output,
} from '@farm/proto';
import { INLINE_NARS_BUDGET, INLINE_NARS_REPLY_BUDGET } from '@farm/proto';
import { DurationModel } from '../core/duration-model.js';
import { capacityProblem } from '../core/routing.js';
import type { RetryPolicy } from '../core/retry-policy.js';
import { Scheduler } from '../core/scheduler.js';
import type { AssignmentOut, BuildOutcome, SchedulerEvent } from '../core/scheduler-types.js';
import type { AgentApi, ApplyResultOutcome } from '../ports/agent-api.js';
import { DEFAULT_FARM_STORE_LIMITS, type FarmStore } from '../ports/farm-store.js';
import { Admission } from './admission.js';
import { AgentRegistry } from './agent-registry.js';
import { buildAssignment } from './assignment.js';
import { buildStatus, buildStatusLabel, failureOutcome, pathInfoFromProto, TERMINAL_JOB_STATUSES } from './convert.js';
import type { BuildRow, CoordinatorState, EventRow, JobRow, SubmissionRow } from './coordinator-state.js';
import { loadGraph, outputPaths } from './derivation-graph.js';
import { addDerivationFromNar } from './drv-upload.js';
import { asFarmError, farmErrors, invalid } from './errors.js';
import { explanationFromRecords, explanationToProto, type ExplainQuery } from './explain-view.js';
import { Journal, type SchedulerEventsListener } from './journal.js';
import { retry as retryFailures } from './retry.js';
import { agentName, capabilities, drvPath as checkDrvPath, JOB_ID, jobId as checkJobId, LIMITS, nonEmpty, str, uint } from './validate.js';
import { agentsView, capabilitiesToProto, farmStatus, submissionStatus } from './views.js';
import { watchEvents } from './watch.js';

export interface FarmServiceOptions {
  readonly leaseMs: number;
  readonly heartbeatMs: number;
  readonly maxAttempts: number;
  readonly maxLogBytes: number;
  /** Per-job limits when a submission sets none (0 = none). */
  readonly defaultTimeoutMs: number;
  readonly defaultMaxSilentMs: number;
  /** Retry backoff, poison threshold and build-failure cache TTL (defaults: DEFAULT_RETRY_POLICY). */
  readonly retry?: Partial<Omit<RetryPolicy, 'maxAttempts'>>;
}

export interface FarmServiceDeps {
  readonly store: FarmStore;
  readonly state: CoordinatorState;
  readonly clock: Clock;
  readonly logger: Logger;
  readonly options: FarmServiceOptions;
  /** Submission ids (default: random). */
  readonly ids?: IdGenerator;
}

/** Where a job's log stands, for the Logs RPC's follow mode. */
export interface JobLogState {
  readonly jobId: string;
  /** The job is in a terminal state (succeeded, failed, dependency failed, cancelled). */
  readonly terminal: boolean;
  /** The epoch of its last lease (0 = it never ran): the eof to wait for. */
  readonly runEpoch: number;
}

export const FARM_VERSION = '0.1.0';

export class FarmService implements AgentApi {
  private readonly scheduler: Scheduler;
  private readonly journal: Journal;
  /** Build times learned from this farm's accepted builds (replayed from the build records at open). */
  private readonly durations = new DurationModel();
  private readonly admission: Admission;
  private readonly agents = new AgentRegistry();
  private readonly revokeListeners = new Set<(agentId: string, revoke: Revoke) => void>();
  /** `<jobId>:<epoch>` of results being applied (idempotence while their commit is in flight). */
  private readonly applied = new Set<string>();
  private readonly store: FarmStore;
  private readonly state: CoordinatorState;
  private readonly clock: Clock;
  private readonly logger: Logger;
  private readonly options: FarmServiceOptions;
  private readonly ids: IdGenerator;
  private timer: NodeJS.Timeout | undefined;
  private closed = false;

  private constructor(deps: FarmServiceDeps) {
    this.store = deps.store;
    this.state = deps.state;
    this.clock = deps.clock;
    this.logger = deps.logger;
    this.options = deps.options;
    this.ids = deps.ids ?? randomIds;
    this.journal = new Journal(deps.state, deps.logger);
    this.scheduler = new Scheduler(deps.clock, this.ids, {
      leaseMs: deps.options.leaseMs,
      maxAttempts: deps.options.maxAttempts,
      jobIdFor: (drv) => parseStorePath(drv).hashPart,
      epochFloorOf: (drv) => this.journal.jobs.get(drv)?.epoch ?? this.state.getJob(drv)?.epoch ?? 0,
      durations: this.durations,
      ...(deps.options.retry === undefined ? {} : { retry: deps.options.retry }),
    });
    this.admission = new Admission({ scheduler: this.scheduler, journal: this.journal, state: this.state, store: this.store, clock: this.clock, logger: this.logger });
  }

  static async open(deps: FarmServiceDeps): Promise<FarmService> {
    const service = new FarmService(deps);
    service.learnDurationsFromHistory();
    await service.admission.replay();
    return service;
  }

  /**
   * The farm's own history: every accepted successful build, oldest first, teaches the duration
   * model (rows from before the system was recorded count for every system by name).
   */
  private learnDurationsFromHistory(): void {
    const builds = this.state.listBuilds().filter((b) => b.status === 'built' && b.assignedMs > 0 && b.finishedMs >= b.assignedMs);
    builds.sort((a, b) => a.finishedMs - b.finishedMs);
    for (const b of builds) this.durations.observe(b.drvPath, b.system ?? '', b.finishedMs - b.assignedMs);
  }

  /** Starts the lease-expiry / lost-agent timer. */
  start(): void {
    if (this.timer !== undefined || this.closed) return;
    const every = Math.max(10, Math.min(1000, Math.floor(this.options.leaseMs / 3)));
    this.timer = setInterval(() => {
      this.tick().catch((e: unknown) => this.logger.error({ err: e }, 'lease expiry failed'));
    }, every);
    this.timer.unref();
  }

  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    if (this.timer !== undefined) clearInterval(this.timer);
    this.timer = undefined;
    this.journal.wakeAll();
    await this.journal.flushed();
  }

  get isClosed(): boolean {
    return this.closed;
  }

  /**
   * One round of the timer (public so tests can drive it with a manual clock): agents silent for
   * leaseMs are removed (their leases requeued under epoch + 1), then expired leases requeued.
   */
  async tick(): Promise<void> {
    if (this.closed) return;
    const now = this.clock.now();
    const events: SchedulerEvent[] = [];
    for (const agent of this.agents.silentSince(now, this.options.leaseMs)) {
      this.logger.warn({ agentId: agent.agentId, silentMs: now - agent.lastSeenMs }, 'agent lost: no word from it for a lease period');
      this.agents.delete(agent.agentId);
      events.push(...this.scheduler.removeAgent(agent.agentId));
    }
    events.push(...this.scheduler.expireLeases());
    if (events.length > 0) await this.journal.record(events);
  }

  // ---------------------------------------------------------------- AgentApi

  async register(hello: AgentHello__Output): Promise<AgentWelcome> {
    this.assertOpen();
    const agentId = agentName(hello.name, 'name');
    const host = str(hello.host, 'host', 255);
    const version = str(hello.version, 'version', 128);
    const caps = capabilities(hello.capabilities);
    const running = this.leases(hello.running, 'running');
    const now = this.clock.now();
    const events: SchedulerEvent[] = [];
    // A registration replaces the previous one: whatever the old incarnation held and does not
    // list again is void (its jobs go back to the queue under a new epoch).
    if (this.agents.has(agentId)) events.push(...this.scheduler.removeAgent(agentId));
    this.agents.set({ agentId, host, version, capabilities: caps, registeredMs: now, lastSeenMs: now, lastHeartbeatMs: now, draining: false });
    events.push(...this.scheduler.registerAgent(agentId, caps));
    let adopted = 0;
    for (const lease of running) {
      const r = this.scheduler.adoptLease(lease.jobId, agentId, lease.epoch);
      if (r.adopted) adopted++;
      events.push(...r.events);
    }
    await this.journal.record(events);
    this.logger.info({ agentId, host, systems: caps.systems, maxJobs: caps.maxJobs, adopted, listed: running.length }, 'agent registered');
    return { agentId, leaseMs: this.options.leaseMs, heartbeatMs: this.options.heartbeatMs };
  }

  async heartbeat(beat: Heartbeat__Output): Promise<HeartbeatAck> {
    this.assertOpen();
    const agentId = agentName(beat.agentId);
    const leases = this.leases(beat.leases, 'leases');
    uint(beat.freeSlots, 'freeSlots', LIMITS.maxMaxJobs);
    const draining = beat.draining === true;
    const now = this.clock.now();
    const agent = this.agents.touch(agentId, now);
    if (agent === undefined) throw new FarmError('NOT_FOUND', `agent ${agentId} is not registered (register again)`, { agentId });
    agent.lastHeartbeatMs = now;
    agent.draining = draining;
    this.scheduler.setDraining(agentId, draining);
    const { renewed, revoked } = this.scheduler.heartbeat(agentId, leases);
    return {
      renewed: renewed.map((l) => ({ jobId: l.jobId, epoch: l.epoch })),
      revoked: revoked.map((l) => ({ jobId: l.jobId, epoch: l.epoch })),
      leaseDeadlineMs: now + this.options.leaseMs,
    };
  }

  async requestWork(request: WorkRequest__Output, signal: AbortSignal): Promise<WorkReply> {
    this.assertOpen();
    const agentId = agentName(request.agentId);
    const freeSlots = uint(request.freeSlots, 'freeSlots', LIMITS.maxMaxJobs);
    const waitMs = Math.min(uint(request.waitMs, 'waitMs'), LIMITS.maxWaitMs);
    if (this.agents.touch(agentId, this.clock.now()) === undefined) {
      throw new FarmError('NOT_FOUND', `agent ${agentId} is not registered (register again)`, { agentId });
    }
    const until = Date.now() + waitMs;
    try {
      for (;;) {
        if (this.closed || signal.aborted || !this.agents.has(agentId)) return { assignments: [] };
        if (freeSlots > 0) {
          const { assignments, events, leftForOthers } = this.scheduler.requestWork(agentId, freeSlots);
          // Jobs this agent left to better-placed waiting agents: wake them to take those.
          if (leftForOthers > 0) this.journal.notifyWork();
          if (assignments.length > 0) {
            // Answered: no longer a waiting agent that placement could leave jobs to.
            this.scheduler.stopWaiting(agentId);
            return { assignments: await this.deliver(agentId, assignments, events) };
          }
        }
        const remaining = until - Date.now();
        if (remaining <= 0) return { assignments: [] };
        await this.waitForWork(remaining, signal);
      }
    } finally {
      this.scheduler.stopWaiting(agentId);
    }
  }

  async applyResult(result: BuildResult__Output): Promise<ApplyResultOutcome> {
    this.assertOpen();
    if (result.lease === null || result.lease === undefined) throw invalid('the result has no lease');
    const jobId = checkJobId(result.lease.jobId, 'lease.jobId');
    const epoch = uint(result.lease.epoch, 'lease.epoch');
    const agentId = agentName(result.agentId);
    const status = buildStatus(result.status);
    const message = typeof result.message === 'string' ? result.message.slice(0, LIMITS.maxMessage) : '';
    const logTail = result.logTail instanceof Uint8Array ? result.logTail : new Uint8Array();
    this.agents.touch(agentId, this.clock.now());
    const key = `${jobId}:${epoch}`;
    const drv = this.scheduler.drvPathOf(jobId) ?? (await this.store.queryPathFromHashPart(jobId));
    if (drv === undefined) return { accepted: false, reason: `unknown job ${jobId}` };
    if (this.applied.has(key) || this.state.getBuild(drv, epoch) !== undefined) return { accepted: true, reason: 'already applied' };
    const refused = this.leaseProblem(jobId, agentId, epoch);
    if (refused !== undefined) return { accepted: false, reason: refused };

    let outcome: BuildOutcome;
    let recordMessage = message;
    // Outputs that rode along with the result: stored (verified like any upload) before the
    // result is applied, under the lease just checked.
    const inlineProblem = status === 'BUILD_STATUS_BUILT' ? await this.storeOutputNars(drv, result) : undefined;
    if (inlineProblem !== undefined) {
      recordMessage = inlineProblem;
      outcome = { kind: 'infrastructure-failure', message: recordMessage };
    } else if (status === 'BUILD_STATUS_BUILT') {
      const outputs = Object.values(await this.outputsOf(drv));
      const missing = await this.store.missing(outputs.filter((p) => p !== ''));
      if (missing.length > 0 || outputs.includes('')) {
        recordMessage = `reported built, but outputs are not valid in the farm store: ${missing.join(', ')}`;
        outcome = { kind: 'infrastructure-failure', message: recordMessage };
      } else {
        outcome = { kind: 'built', outputBytes: result.outputs.reduce((n, o) => n + (Number(o.narSize) || 0), 0) };
      }
    } else {
      outcome = failureOutcome(status, message, logTail);
    }
    // The awaits above may have raced with a duplicate of this result or a lease change.
    if (this.applied.has(key)) return { accepted: true, reason: 'already applied' };
    const job = this.journal.jobs.get(drv);
    const r = this.scheduler.complete(jobId, agentId, epoch, outcome);
    if (!r.accepted) return { accepted: false, reason: `stale lease: ${r.reason ?? 'refused'}` };
    this.applied.add(key);
    const build: BuildRow = {
      jobId,
      drvPath: drv,
      epoch,
      agentId,
      status: buildStatusLabel(status),
      readyMs: job?.readyMs ?? 0,
      assignedMs: job?.assignedMs ?? 0,
      finishedMs: this.clock.now(),
      message: recordMessage,
      system: this.scheduler.systemOf(jobId) ?? '',
    };
    try {
      await this.journal.record(r.events, { builds: [build] });
    } finally {
      // Once committed, the BuildRecord answers "already applied"; the set only bridges the commit.
      this.applied.delete(key);
    }
    this.logger.info({ jobId, drvPath: drv, epoch, agentId, status: build.status }, 'build result applied');
    return { accepted: true };
  }

  onRevoke(listener: (agentId: string, revoke: Revoke) => void): () => void {
    this.revokeListeners.add(listener);
    return () => void this.revokeListeners.delete(listener);
  }

  // ---------------------------------------------------------------- client API (gRPC)

  /** Admits a submission inside the span `admission`, whose traceparent the row keeps (job-spans.ts). */
  submit(request: SubmitRequest__Output): Promise<SubmitResponse> {
    return withSpan('admission', {}, (span) => this.admit(request, span));
  }

  private async admit(request: SubmitRequest__Output, span: Span): Promise<SubmitResponse> {
    this.assertOpen();
    if (!Array.isArray(request.roots) || request.roots.length === 0) throw invalid('a submission needs at least one root derivation');
    if (request.roots.length > LIMITS.maxRoots) throw invalid(`${request.roots.length} roots exceed the limit of ${LIMITS.maxRoots}`);
    const roots = [...new Set(request.roots.map((r, i) => checkDrvPath(r?.drvPath, `roots[${i}].drvPath`)))];
    const priority = request.priority;
    if (!Number.isSafeInteger(priority)) throw invalid('priority must be an integer');
    const client = str(request.client, 'client', 256);
    const timeoutMs = uint(request.timeoutMs, 'timeoutMs');
    const maxSilentMs = uint(request.maxSilentMs, 'maxSilentMs');
    // A root must be a derivation the store holds: uploaded, or recorded by the Nix door.
    for (const root of roots) {
      if ((await this.store.getDerivation(root)) === undefined) {
        throw new FarmError('FAILED_PRECONDITION', `root derivation ${root} is not in the farm store (upload it first)`, { path: root });
      }
    }
    const loaded = await farmErrors(() => loadGraph(this.store, roots));
    this.assertOpen();
    const id = this.ids.next('sub');
    const createdMs = this.clock.now();
    const row: SubmissionRow = {
      id,
      roots,
      priority,
      client,
      createdMs,
      timeoutMs,
      maxSilentMs,
      done: false,
      jobsTotal: 0,
      alreadyValid: 0,
      shared: 0,
      succeeded: 0,
      failed: 0,
      lastSeq: 0,
      ...(recording(span) ? { traceparent: traceparentOf(span)! } : {}),
    };
    if (recording(span)) span.setAttributes({ [ATTR.submissionId]: id, [ATTR.client]: client, 'farm.roots': roots.length });
    const { outcome, sub, events } = this.admission.admit(row, loaded, false);
    await this.journal.record(events, { submissions: [sub.row] });
    this.logger.info({ submissionId: id, roots: roots.length, jobs: outcome.jobs, alreadyValid: outcome.alreadyValid, shared: outcome.shared, client }, 'submission admitted');
    return { submissionId: id, jobsTotal: outcome.jobs, alreadyValid: outcome.alreadyValid, shared: outcome.shared };
  }

  /** Persisted events from `fromSequence`, then live ones; ends after the `final` event. NOT_FOUND for unknown ids. */
  watch(submissionId: string, fromSequence: number, signal: AbortSignal): AsyncIterable<EventRow> {
    this.assertOpen();
    const id = nonEmpty(submissionId, 'submissionId', 128);
    if (!Number.isSafeInteger(fromSequence) || fromSequence < 0) throw invalid('fromSequence must be a non-negative integer');
    if (!this.journal.live.has(id) && this.state.getSubmission(id) === undefined) throw new FarmError('NOT_FOUND', `no submission ${id}`, { submissionId: id });
    return watchEvents({ journal: this.journal, state: this.state, isClosed: () => this.closed }, id, fromSequence, signal);
  }

  status(submissionId?: string): StatusResponse {
    this.assertOpen();
    if (submissionId === undefined || submissionId === '') {
      return farmStatus(this.journal.jobs.values(), this.state.listSubmissions().map((r) => this.journal.live.get(r.id)?.row ?? r));
    }
    const id = nonEmpty(submissionId, 'submissionId', 128);
    const row = this.journal.live.get(id)?.row ?? this.state.getSubmission(id);
    if (row === undefined) throw new FarmError('NOT_FOUND', `no submission ${id}`, { submissionId: id });
    return submissionStatus(this.state, row);
  }

  async cancel(submissionId: string): Promise<CancelResponse> {
    this.assertOpen();
    const id = nonEmpty(submissionId, 'submissionId', 128);
    const sub = this.journal.live.get(id);
    if (sub === undefined) {
      if (this.state.getSubmission(id) === undefined) throw new FarmError('NOT_FOUND', `no submission ${id}`, { submissionId: id });
      return { cancelled: [], leftRunning: {} };
    }
    if (sub.row.done) return { cancelled: [], leftRunning: {} };
    const holders = new Map<string, string>();
    for (const jobId of sub.jobs.keys()) {
      const h = this.scheduler.leaseHolder(jobId);
      if (h !== undefined) holders.set(jobId, h.agentId);
    }
    const r = this.scheduler.cancel(id);
    sub.cancelled = true;
    await this.journal.record(r.events, { alsoTo: id });
    for (const rv of r.revoke) {
      const agentId = holders.get(rv.jobId);
      if (agentId !== undefined) this.sendRevoke(agentId, rv, `submission ${id} was cancelled`);
    }
    this.logger.info({ submissionId: id, cancelled: r.cancelled.length, leftRunning: r.leftRunning.size }, 'submission cancelled');
    return { cancelled: r.cancelled, leftRunning: Object.fromEntries(r.leftRunning) };
  }

  listAgents(): ListAgentsResponse {
    this.assertOpen();
    return { agents: agentsView(this.agents.all(), this.journal.jobs.values()) };
  }

  listBuilds(drvPath?: string): ListBuildsResponse {
    this.assertOpen();
    const filter = drvPath === undefined || drvPath === '' ? undefined : checkDrvPath(drvPath, 'drvPath');
    return { builds: this.state.listBuilds(filter).map((b): BuildRecord => ({ ...b })) };
  }

  /**
   * Explain (`farm explain`): why the job is where it is. Exactly one of drvPath / jobId (proto3:
   * '' is unset); NOT_FOUND when the scheduler has no such job in this run (explainWithRecords
   * also answers for jobs of earlier runs).
   */
  explain(request: ExplainQuery): ExplainResponse {
    const found = this.explainInRun(request);
    if (found.response === undefined) throw found.notFound();
    return found.response;
  }

  /** explain(), and for a job that finished in an earlier run of the coordinator, what its records say. */
  async explainWithRecords(request: ExplainQuery): Promise<ExplainResponse> {
    const found = this.explainInRun(request);
    if (found.response !== undefined) return found.response;
    // Not in this run: a job id names its .drv by hash part (the store finds it), then its records.
    const drvPath = found.drv ?? (await this.store.queryPathFromHashPart(found.jobId));
    const row = drvPath === undefined ? undefined : this.state.getJob(drvPath);
    if (row === undefined || row.jobId !== found.jobId || (found.drv !== undefined && row.drvPath !== found.drv)) throw found.notFound();
    return explanationFromRecords(row, this.state.listBuilds(row.drvPath));
  }

  private explainInRun(request: ExplainQuery): { response: ExplainResponse | undefined; jobId: string; drv: string | undefined; notFound: () => FarmError } {
    this.assertOpen();
    const hasDrv = request.drvPath !== undefined && request.drvPath !== '';
    const hasJob = request.jobId !== undefined && request.jobId !== '';
    if (hasDrv === hasJob) throw invalid('Explain needs exactly one of a drv path or a job id');
    const drv = hasDrv ? checkDrvPath(request.drvPath, 'drvPath') : undefined;
    const jobId = drv !== undefined ? parseStorePath(drv).hashPart : checkJobId(request.jobId, 'jobId');
    const e = this.scheduler.explain(jobId);
    const notFound = () => new FarmError('NOT_FOUND', `no job for ${drv ?? jobId}: it was never submitted, or its outputs were already valid`, { job: drv ?? jobId });
    if (e === undefined) return { response: undefined, jobId, drv, notFound };
    // A drv path with the job's hash but another name is not that job.
    if (drv !== undefined && e.drvPath !== drv) throw notFound();
    return { response: explanationToProto(e, this.journal.jobs.get(e.drvPath)?.agentId), jobId, drv, notFound };
  }

  /**
   * Retry (`farm retry <submission|drv|job>`): forgets the cached failures (retry.ts says which)
   * and submits anew through submit(); the response names the new submission.
   */
  retry(request: { target?: unknown }): Promise<RetryResponse> {
    this.assertOpen();
    return retryFailures(
      {
        scheduler: this.scheduler,
        submission: (id) => this.journal.live.get(id)?.row ?? this.state.getSubmission(id),
        events: (id) => this.state.events(id, 0),
        job: (drv) => this.journal.jobs.get(drv) ?? this.state.getJob(drv),
        drvOfHashPart: (hashPart) => this.store.queryPathFromHashPart(hashPart),
        submit: (r) => this.submit(r),
      },
      request,
    );
  }

  /**
   * Why no connected agent could build a job needing `system` and `requiredFeatures`, or undefined
   * when one fits (the Nix door fails such a build at once instead of letting it wait).
   */
  capacityProblemFor(system: string, requiredFeatures: readonly string[]): string | undefined {
    return capacityProblem({ system, requiredFeatures: [...requiredFeatures] }, this.agents.all().map((a) => a.capabilities));
  }

  agentCapabilities(): Capabilities[] {
    return this.agents.all().map((a) => capabilitiesToProto(a.capabilities));
  }

  get storeDir(): string {
    return DEFAULT_STORE_DIR;
  }

  /** The job id for a drv path, a job id or a drv basename; NOT_FOUND when no such job is known. */
  async jobIdFor(drvOrJob: string): Promise<string> {
    this.assertOpen();
    const s = nonEmpty(drvOrJob, 'job', 512);
    let jobId: string;
    if (JOB_ID.test(s)) jobId = s;
    else {
      try {
        jobId = (s.startsWith('/') ? parseStorePath(s) : parseStorePathBaseName(s)).hashPart;
      } catch {
        throw invalid(`'${s}' is neither a job id nor a derivation path`);
      }
    }
    const drv = await this.drvOfJob(jobId);
    if (drv === undefined) throw new FarmError('NOT_FOUND', `no job for ${s}`, { job: s });
    return jobId;
  }

  async jobLogState(jobId: string): Promise<JobLogState> {
    const drv = await this.drvOfJob(checkJobId(jobId));
    if (drv === undefined) throw new FarmError('NOT_FOUND', `no job ${jobId}`, { jobId });
    const current = this.scheduler.jobStatus(jobId);
    const row = this.journal.jobs.get(drv) ?? this.state.getJob(drv);
    const status = current?.status ?? row?.status;
    return { jobId, terminal: status === undefined || TERMINAL_JOB_STATUSES.has(status), runEpoch: row?.runEpoch ?? 0 };
  }

  /**
   * Calls `listener` with every committed batch of scheduler events (job status changes with their
   * times, agents and epochs; submissions done), in commit order: what metrics, traces and the
   * dashboard observe. A listener that throws is logged, not propagated.
   */
  onSchedulerEvents(listener: SchedulerEventsListener): () => void {
    return this.journal.onCommitted(listener);
  }

  /** This run's jobs as last committed (read-only live rows): metrics count them when scraped. */
  jobRows(): Iterable<Readonly<JobRow>> {
    return this.journal.jobs.values();
  }

  /** The W3C traceparent of the span that admitted a submission (tracing: job-spans.ts), if any. */
  submissionTraceparent(submissionId: string): string | undefined {
    return (this.journal.live.get(submissionId)?.row ?? this.state.getSubmission(submissionId))?.traceparent;
  }

  /** The system and required features a derivation's job is routed by (metrics' bucket labels), if it has a job. */
  routingOf(drvPath: string): { readonly system: string; readonly requiredFeatures: readonly string[] } | undefined {
    return this.scheduler.routingOf(drvPath);
  }

  /** The submissions that need a job now (the first is the one whose trace its spans join). */
  jobSubmissions(jobId: string): readonly string[] {
    return this.scheduler.jobStatus(jobId)?.submissions ?? [];
  }

  /** Calls `listener` after every committed change of the job. */
  onJobChange(jobId: string, listener: () => void): () => void {
    return this.journal.onJobChange(jobId, listener);
  }

  /**
   * One path upload. A header with a lease is a build output: the lease must be the job's
   * current one (FAILED_PRECONDITION "stale lease" otherwise) and the path one of its outputs.
   * Without a lease it is a client upload; a `.drv` then goes through addDerivation.
   */
  async addPath(header: AddPathHeader__Output | null | undefined, nar: AsyncIterable<Uint8Array>): Promise<AddPathResponse> {
    this.assertOpen();
    if (header === null || header === undefined) throw invalid('the upload has no header');
    const info = pathInfoFromProto(header.info);
    const lease = header.lease;
    return farmErrors(async () => {
      if (lease !== null && lease !== undefined && (lease.jobId !== '' || lease.epoch !== '0')) {
        const jobId = checkJobId(lease.jobId, 'lease.jobId');
        const epoch = uint(lease.epoch, 'lease.epoch');
        const holder = this.scheduler.leaseHolder(jobId);
        if (holder === undefined || holder.epoch !== epoch) {
          const now = holder === undefined ? 'the job is not running' : `the current lease is epoch ${holder.epoch}`;
          throw new FarmError('FAILED_PRECONDITION', `stale lease: job ${jobId} epoch ${epoch} (${now}); upload of ${info.path} refused`, { jobId });
        }
        const drv = this.scheduler.drvPathOf(jobId)!;
        const outputs = Object.values(await this.outputsOf(drv));
        if (!outputs.includes(info.path)) throw invalid(`${info.path} is not an output of ${drv} (job ${jobId})`);
        const r = await this.store.addPath(info, nar);
        return { alreadyValid: !r.added };
      }
      const isDrv = parseStorePath(info.path).name.endsWith('.drv');
      const r = isDrv
        ? await addDerivationFromNar(this.store, info, nar, DEFAULT_FARM_STORE_LIMITS.maxAtermSize + 4096)
        : await this.store.addPath(info, nar);
      return { alreadyValid: !r.added };
    });
  }

  /**
   * AddDerivations: each `.drv` verified and stored as an AddPath of it would be, in the order
   * given (a derivation's inputs must be stored already or come earlier). The first refusal
   * fails the call naming that derivation; those before it stay stored.
   */
  async addDerivations(req: AddDerivationsRequest__Output): Promise<AddDerivationsResponse> {
    this.assertOpen();
    const list = Array.isArray(req.derivations) ? req.derivations : [];
    if (list.length > 10_000) throw invalid(`${list.length} derivations in one AddDerivations call; at most 10,000`);
    for (const [i, d] of list.entries()) {
      if (typeof d?.drvPath !== 'string' || !(d.aterm instanceof Uint8Array)) throw invalid(`derivation #${i} needs a drvPath and its ATerm`);
    }
    const results = await farmErrors(() => this.store.addDerivations(list.map((d) => ({ drvPath: d.drvPath, aterm: d.aterm }))));
    return { alreadyValid: results.map((r) => !r.added) };
  }

  // ---------------------------------------------------------------- internals

  /**
   * Stores the NARs a result carries (BuildResult.output_nars), in the order sent (reference
   * order), each checked against its PathInfo in `outputs` like an AddPath upload. Returns what
   * was wrong, if anything: a bad inline NAR makes the result an infrastructure failure (the
   * job is retried), never a crash.
   */
  private async storeOutputNars(drv: string, result: BuildResult__Output): Promise<string | undefined> {
    const nars = result.outputNars ?? [];
    if (nars.length === 0) return undefined;
    try {
      const total = nars.reduce((n, x) => n + (x.nar?.length ?? 0), 0);
      if (total > INLINE_NARS_BUDGET) throw invalid(`the result carries ${total} bytes of output NARs, more than ${INLINE_NARS_BUDGET}`);
      const outputs = Object.values(await this.outputsOf(drv));
      for (const { path, nar } of nars) {
        if (!outputs.includes(path)) throw invalid(`${path} is not an output of ${drv}`);
        const info = pathInfoFromProto(result.outputs.find((o) => o.path === path));
        await this.store.addPath(info, (async function* () {
          yield nar;
        })());
      }
      return undefined;
    } catch (e) {
      const err = asFarmError(e) as Error;
      this.logger.warn({ err, drvPath: drv, agentId: result.agentId }, 'refused the output NARs carried by a result');
      return `reported built, but its outputs could not be stored: ${err.message}`;
    }
  }

  private assertOpen(): void {
    if (this.closed) throw new FarmError('UNAVAILABLE', 'the coordinator is shutting down');
  }

  private leases(list: unknown, field: string): { jobId: string; epoch: number }[] {
    if (!Array.isArray(list)) throw invalid(`${field} must be a list`);
    if (list.length > LIMITS.maxLeases) throw invalid(`${field} has ${list.length} leases; the limit is ${LIMITS.maxLeases}`);
    return list.map((l: { jobId?: unknown; epoch?: unknown } | null, i) => {
      if (l === null || typeof l !== 'object') throw invalid(`${field}[${i}] is not a lease`);
      return { jobId: checkJobId(l.jobId, `${field}[${i}].jobId`), epoch: uint(l.epoch, `${field}[${i}].epoch`) };
    });
  }

  private leaseProblem(jobId: string, agentId: string, epoch: number): string | undefined {
    const holder = this.scheduler.leaseHolder(jobId);
    if (holder === undefined) return `stale lease: job ${jobId} is not running (result for epoch ${epoch})`;
    if (holder.epoch !== epoch) return `stale lease: job ${jobId} is at epoch ${holder.epoch}, the result is for epoch ${epoch}`;
    if (holder.agentId !== agentId) return `stale lease: job ${jobId} is held by ${holder.agentId}, not ${agentId}`;
    return undefined;
  }

  private async drvOfJob(jobId: string): Promise<string | undefined> {
    const known = this.scheduler.drvPathOf(jobId);
    if (known !== undefined) return known;
    const drv = await this.store.queryPathFromHashPart(jobId);
    return drv !== undefined && this.state.getJob(drv) !== undefined ? drv : undefined;
  }

  private async outputsOf(drv: string): Promise<Record<string, string>> {
    const known = this.journal.outputsOf.get(drv);
    if (known !== undefined) return known;
    const parsed = await this.store.getDerivation(drv);
    if (parsed === undefined) throw new FarmError('INTERNAL', `derivation ${drv} is not in the farm store`);
    const outs = outputPaths(parsed);
    this.journal.outputsOf.set(drv, outs);
    return outs;
  }

  /** Builds the assignments; the 'running' events are recorded at once, the reply waits for their commit. */
  private async deliver(agentId: string, leased: readonly AssignmentOut[], events: SchedulerEvent[]): Promise<Assignment[]> {
    const committed = this.journal.record(events);
    const out: Assignment[] = [];
    const failures: SchedulerEvent[] = [];
    // The reply's inline input NARs share one budget, so a reply stays below NATS's max payload.
    let inlineLeft = INLINE_NARS_REPLY_BUDGET;
    for (const a of leased) {
      try {
        const inlineBudget = Math.min(INLINE_NARS_BUDGET, inlineLeft);
        const assignment = await buildAssignment(this.store, a.drvPath, a, { ...this.limitsFor(a.jobId), inlineBudget });
        for (const n of assignment.inputNars ?? []) inlineLeft -= (n.nar as Uint8Array).length;
        out.push(assignment);
      } catch (e) {
        const message = `could not prepare the assignment: ${(asFarmError(e) as Error).message}`;
        this.logger.error({ err: e, jobId: a.jobId, drvPath: a.drvPath }, 'assignment failed');
        failures.push(...this.scheduler.complete(a.jobId, agentId, a.epoch, { kind: 'infrastructure-failure', message }).events);
      }
    }
    await committed;
    if (failures.length > 0) await this.journal.record(failures);
    return out;
  }

  /** The most generous limits among the live submissions that need the job (0 = none). */
  private limitsFor(jobId: string): { timeoutMs: number; maxSilentMs: number; maxLogBytes: number } {
    const subs = (this.scheduler.jobStatus(jobId)?.submissions ?? []).map((id) => this.journal.live.get(id)?.row).filter((r) => r !== undefined);
    const pick = (values: number[], fallback: number) => {
      const effective = (values.length > 0 ? values : [0]).map((v) => (v === 0 ? fallback : v));
      return effective.includes(0) ? 0 : Math.max(...effective);
    };
    return {
      timeoutMs: pick(subs.map((r) => r.timeoutMs), this.options.defaultTimeoutMs),
      maxSilentMs: pick(subs.map((r) => r.maxSilentMs), this.options.defaultMaxSilentMs),
      maxLogBytes: this.options.maxLogBytes,
    };
  }

  private waitForWork(ms: number, signal: AbortSignal): Promise<void> {
    return new Promise((resolve) => {
      const done = () => {
        clearTimeout(timer);
        off();
        signal.removeEventListener('abort', done);
        resolve();
      };
      // A job in retry backoff becomes due without any event: wake up for it too.
      const due = this.scheduler.nextDueAt();
      const timer = setTimeout(done, due === undefined ? ms : Math.min(ms, Math.max(0, due - this.clock.now()) + 1));
      const off = this.journal.onWorkAvailable(done);
      signal.addEventListener('abort', done, { once: true });
    });
  }

  private sendRevoke(agentId: string, lease: AssignmentOut, reason: string): void {
    const revoke: Revoke = { lease: { jobId: lease.jobId, epoch: lease.epoch }, reason };
    for (const l of [...this.revokeListeners]) {
      try {
        l(agentId, revoke);
      } catch (e) {
        this.logger.error({ err: e, agentId }, 'a revoke listener failed');
      }
    }
  }
}

