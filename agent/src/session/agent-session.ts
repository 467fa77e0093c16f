/**
 * The agent's side of the NATS protocol (docs/architecture.md, "Agent protocol"):
 * - registration: AgentHello → AgentWelcome (leaseMs, heartbeatMs); again whenever the
 *   coordinator answers NOT_FOUND (it dropped us), listing the leases still held so they can be
 *   re-adopted;
 * - heartbeats every heartbeatMs with the held leases and free slots; renewed leases are
 *   refreshed, revoked ones stopped; a lease not renewed for leaseMs by this agent's own clock
 *   is fenced (its build killed, nothing reported) — checked on a timer independent of whether
 *   heartbeats get answers at all;
 * - the work loop: a long-poll WorkRequest only while there is a free slot, each Assignment run
 *   as an attempt (run-attempt.ts);
 * - Revoke on `farm.agent.<id>.control` stops the named attempt.
 * close(): stop pulling and heartbeating, stop every attempt (they report nothing), wait for them.
 */
import { setTimeout as sleep } from 'node:timers/promises';
import { extractFromHeaders, isFarmError, ROOT_CONTEXT, type Clock, type Context, type Logger } from '@farm/common';
import {
  decodeMessage,
  SUBJECTS,
  type AgentHello,
  type AgentWelcome__Output,
  type Assignment__Output,
  type HeartbeatAck__Output,
  type Revoke__Output,
  type WorkReply__Output,
} from '@farm/proto';
import type { NatsConnection, Subscription } from '@nats-io/transport-node';
import { LeaseTable } from './lease-table.js';
import { natsRequest, natsRequestWithHeaders } from './nats-rpc.js';
import type { MsgHdrs } from '@nats-io/transport-node';
import { runAttempt, type AttemptDeps } from './run-attempt.js';

export const WORK_WAIT_MS = 20_000;
const REGISTER_TIMEOUT_MS = 5_000;
const DEFAULT_LEASE_MS = 15_000;
const DEFAULT_HEARTBEAT_MS = 3_000;

export interface SessionOptions {
  readonly nc: NatsConnection;
  readonly name: string;
  readonly host: string;
  readonly version: string;
  readonly capabilities: {
    readonly systems: readonly string[];
    readonly supportedFeatures: readonly string[];
    readonly mandatoryFeatures: readonly string[];
    readonly maxJobs: number;
    readonly speedFactor: number;
    /** Emulated systems → how they run (shown by `farm agents`). */
    readonly emulated?: Readonly<Record<string, string>>;
  };
  readonly attempts: Omit<AttemptDeps, 'agentId' | 'shutdown' | 'clock' | 'logger'>;
  readonly clock: Clock;
  readonly logger: Logger;
  /** Long-poll budget per WorkRequest; default 20 s (the contract's). */
  readonly workWaitMs?: number;
  /** Pause after a failed registration or work request; default 1 s. */
  readonly retryMs?: number;
  /** Aborting it gives up the first registration (start() rejects with the reason). */
  readonly startSignal?: AbortSignal | undefined;
}

export class AgentSession {
  private agentIdValue: string;
  private leaseMs = DEFAULT_LEASE_MS;
  private heartbeatMs = DEFAULT_HEARTBEAT_MS;
  private readonly leases = new LeaseTable();
  private readonly shutdown = new AbortController();
  private readonly running = new Set<Promise<unknown>>();
  private readonly loops: Promise<void>[] = [];
  private control: Subscription | undefined;
  private registering: Promise<void> | undefined;
  private fenceTimer: NodeJS.Timeout | undefined;
  private closing: Promise<void> | undefined;
  private readonly log: Logger;
  private readonly retryMs: number;
  private readonly workWaitMs: number;

  private constructor(private readonly o: SessionOptions) {
    this.agentIdValue = o.name;
    this.log = o.logger;
    this.retryMs = o.retryMs ?? 1000;
    this.workWaitMs = o.workWaitMs ?? WORK_WAIT_MS;
  }

  /**
   * Registers (retrying while the coordinator is unreachable; any error it sends back rejects)
   * and starts heartbeats, the work loop and the control subscription.
   */
  static async start(o: SessionOptions): Promise<AgentSession> {
    const s = new AgentSession(o);
    for (let attempt = 1; ; attempt++) {
      o.startSignal?.throwIfAborted();
      try {
        await s.register();
        break;
      } catch (e) {
        if (!isFarmError(e, 'UNAVAILABLE')) {
          await s.close();
          throw e;
        }
        if (attempt === 1 || attempt % 30 === 0) s.log.warn({ err: e, attempt }, 'cannot register with the coordinator yet; retrying');
        await sleep(s.retryMs, undefined, o.startSignal === undefined ? {} : { signal: o.startSignal }).catch(async () => {
          await s.close();
          o.startSignal!.throwIfAborted();
        });
      }
    }
    s.loops.push(s.heartbeatLoop(), s.workLoop());
    return s;
  }

  get agentId(): string {
    return this.agentIdValue;
  }

  /** Leases currently held (for tests and status). */
  heldLeases(): { jobId: string; epoch: string }[] {
    return this.leases.leases().map((l) => ({ jobId: String(l.jobId), epoch: String(l.epoch) }));
  }

  /** Build slots now (metrics): sandboxes running, free slots, maxJobs. */
  slots(): { building: number; free: number; maxJobs: number } {
    return { building: this.leases.building, free: this.freeSlots, maxJobs: this.o.capabilities.maxJobs };
  }

  close(): Promise<void> {
    this.closing ??= this.doClose();
    return this.closing;
  }

  private async doClose(): Promise<void> {
    this.shutdown.abort(new Error('agent shutting down'));
    clearInterval(this.fenceTimer);
    this.leases.stopAll('closing', 'agent shutting down');
    await Promise.allSettled([...this.running]);
    await Promise.allSettled(this.loops);
    this.control?.unsubscribe();
  }

  /**
   * Build slots free now. A lease whose sandbox has exited no longer takes a slot (its outputs
   * are uploading and its result being reported), so the next build overlaps that tail; at most
   * maxJobs such finishing leases are held on top of maxJobs building ones, the same bound the
   * coordinator enforces.
   */
  private get freeSlots(): number {
    const maxJobs = this.o.capabilities.maxJobs;
    return Math.max(0, Math.min(maxJobs - this.leases.building, 2 * maxJobs - this.leases.size));
  }

  private async register(): Promise<void> {
    const c = this.o.capabilities;
    const hello: AgentHello = {
      name: this.o.name,
      host: this.o.host,
      version: this.o.version,
      capabilities: {
        systems: [...c.systems],
        supportedFeatures: [...c.supportedFeatures],
        mandatoryFeatures: [...c.mandatoryFeatures],
        maxJobs: c.maxJobs,
        speedFactor: c.speedFactor,
        emulated: { ...c.emulated },
      },
      running: this.leases.leases(),
    };
    const welcome = await natsRequest<AgentWelcome__Output>(this.o.nc, SUBJECTS.register, 'AgentHello', hello as Record<string, unknown>, 'AgentWelcome', REGISTER_TIMEOUT_MS);
    const leaseMs = Number(welcome.leaseMs);
    const heartbeatMs = Number(welcome.heartbeatMs);
    this.leaseMs = leaseMs > 0 ? leaseMs : DEFAULT_LEASE_MS;
    this.heartbeatMs = heartbeatMs > 0 ? heartbeatMs : DEFAULT_HEARTBEAT_MS;
    const agentId = welcome.agentId === '' ? this.o.name : welcome.agentId;
    if (this.control === undefined || agentId !== this.agentIdValue) {
      this.control?.unsubscribe();
      this.agentIdValue = agentId;
      this.control = this.o.nc.subscribe(SUBJECTS.control(agentId), {
        callback: (err, msg) => {
          if (err !== null) this.log.error({ err }, 'control subscription failed');
          else this.onControl(msg.data);
        },
      });
      // Make sure the server has the subscription before anyone can be told to revoke through it.
      await this.o.nc.flush();
    }
    this.startFenceTimer();
    this.log.info({ agentId, leaseMs: this.leaseMs, heartbeatMs: this.heartbeatMs }, 'registered with the coordinator');
  }

  /** Registers again (after NOT_FOUND), once however many loops ask at the same time. */
  private reregister(): Promise<void> {
    this.registering ??= (async () => {
      for (let attempt = 1; !this.shutdown.signal.aborted; attempt++) {
        try {
          await this.register();
          return;
        } catch (e) {
          if (attempt === 1 || attempt % 30 === 0) this.log.warn({ err: e, attempt }, 'registering again failed; retrying');
          await this.pause(this.retryMs);
        }
      }
    })().finally(() => (this.registering = undefined));
    return this.registering;
  }

  private startFenceTimer(): void {
    clearInterval(this.fenceTimer);
    const every = Math.min(1000, Math.max(20, Math.floor(this.leaseMs / 10)));
    this.fenceTimer = setInterval(() => {
      for (const l of this.leases.fenceExpired(this.o.clock.now(), this.leaseMs)) {
        this.log.warn({ jobId: l.jobId, epoch: l.epoch, detail: l.stop?.detail }, 'lease not renewed in time: killing its build (self-fencing)');
      }
    }, every);
    this.fenceTimer.unref();
  }

  private async heartbeatLoop(): Promise<void> {
    while (!this.shutdown.signal.aborted) {
      const sentAt = this.o.clock.now();
      const started = performance.now();
      try {
        const ack = await this.untilShutdown(
          natsRequest<HeartbeatAck__Output>(
            this.o.nc,
            SUBJECTS.heartbeat,
            'Heartbeat',
            { agentId: this.agentIdValue, leases: this.leases.leases(), freeSlots: this.freeSlots, draining: false },
            'HeartbeatAck',
            Math.max(250, this.heartbeatMs),
          ),
        );
        this.leases.renew(ack.renewed.map(plainLease), sentAt);
        for (const r of ack.revoked) this.revoke(r.jobId, r.epoch, 'revoked in a heartbeat ack');
      } catch (e) {
        if (this.shutdown.signal.aborted) return;
        if (isFarmError(e, 'NOT_FOUND')) {
          this.log.warn('the coordinator does not know this agent (any more): registering again');
          await this.reregister();
          continue;
        }
        this.log.warn({ err: e }, 'heartbeat failed');
      }
      await this.pause(this.heartbeatMs - (performance.now() - started));
    }
  }

  private async workLoop(): Promise<void> {
    while (!this.shutdown.signal.aborted) {
      const free = this.freeSlots;
      if (free === 0) {
        await this.untilShutdown(this.leases.nextRelease()).catch(() => undefined);
        continue;
      }
      let reply: WorkReply__Output;
      let headers: MsgHdrs | undefined;
      try {
        ({ reply, headers } = await this.untilShutdown(
          natsRequestWithHeaders<WorkReply__Output>(
            this.o.nc,
            SUBJECTS.workRequest,
            'WorkRequest',
            { agentId: this.agentIdValue, freeSlots: free, waitMs: String(this.workWaitMs) },
            'WorkReply',
            this.workWaitMs + 5000,
          ),
        ));
      } catch (e) {
        if (this.shutdown.signal.aborted) return;
        if (isFarmError(e, 'NOT_FOUND')) {
          await this.reregister();
          continue;
        }
        this.log.warn({ err: e }, 'work request failed');
        await this.pause(this.retryMs);
        continue;
      }
      // Each lease's trace context (the coordinator's `lease` span) rides in `traceparent-<jobId>`.
      for (const a of reply.assignments) this.startAttempt(a, extractFromHeaders(headers, ROOT_CONTEXT, a.lease?.jobId ?? ''));
    }
  }

  private startAttempt(a: Assignment__Output, trace: Context): void {
    if (a.lease === null || a.lease.jobId === '') {
      this.log.error({ drvPath: a.drvPath }, 'assignment without a lease ignored');
      return;
    }
    if (this.shutdown.signal.aborted) return; // going silent: the lease expires and is requeued
    if (this.leases.has(a.lease.jobId, a.lease.epoch)) {
      // Never run one lease twice: both attempts would report under the same result msg id.
      this.log.warn({ jobId: a.lease.jobId, epoch: a.lease.epoch }, 'duplicate assignment of a lease already held ignored');
      return;
    }
    const held = this.leases.add(a.lease.jobId, a.lease.epoch, this.o.clock.now());
    this.log.info({ jobId: held.jobId, epoch: held.epoch, drvPath: a.drvPath, inputs: a.inputs.length }, 'assignment received');
    const deps: AttemptDeps = { ...this.o.attempts, agentId: this.agentIdValue, shutdown: this.shutdown.signal, clock: this.o.clock, logger: this.log };
    const p: Promise<unknown> = runAttempt(deps, a, held, () => this.leases.releaseSlot(held), trace)
      .catch((e: unknown) => this.log.error({ err: e, jobId: held.jobId }, 'attempt crashed'))
      .finally(() => {
        this.leases.remove(held);
        this.running.delete(p);
      });
    this.running.add(p);
  }

  private onControl(data: Uint8Array): void {
    let revoke: Revoke__Output;
    try {
      revoke = decodeMessage<Revoke__Output>('Revoke', data);
    } catch (e) {
      this.log.warn({ err: e }, 'malformed control message ignored');
      return;
    }
    if (revoke.lease === null) return;
    this.revoke(revoke.lease.jobId, revoke.lease.epoch, revoke.reason === '' ? 'revoked by the coordinator' : revoke.reason);
  }

  private revoke(jobId: string, epoch: string, reason: string): void {
    for (const l of this.leases.stop(jobId, epoch, 'revoked', reason)) {
      this.log.info({ jobId: l.jobId, epoch: l.epoch, reason }, 'lease revoked: killing its build');
    }
  }

  private untilShutdown<T>(p: Promise<T>): Promise<T> {
    const signal = this.shutdown.signal;
    if (signal.aborted) {
      p.catch(() => undefined);
      return Promise.reject(signal.reason);
    }
    return new Promise<T>((resolve, reject) => {
      const onAbort = () => reject(signal.reason);
      signal.addEventListener('abort', onAbort, { once: true });
      p.then(resolve, reject).finally(() => signal.removeEventListener('abort', onAbort));
    });
  }

  private async pause(ms: number): Promise<void> {
    if (ms <= 0) return;
    await sleep(ms, undefined, { signal: this.shutdown.signal }).catch(() => undefined);
  }
}

function plainLease(l: { jobId: string; epoch: string }): { jobId: string; epoch: string } {
  return { jobId: l.jobId, epoch: l.epoch };
}
