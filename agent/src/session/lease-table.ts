/**
 * The leases this agent holds, one per running attempt, and why an attempt was stopped.
 *
 * Self-fencing is per lease: `renewedAt` is when the lease was last known good by this agent's
 * own clock — when its assignment arrived, or when a heartbeat that renewed it was *sent* (the
 * coordinator renews on receipt, so the send time never overestimates). A lease not renewed for
 * leaseMs is one the coordinator may already have given to someone else: its build is aborted
 * and nothing is reported for it.
 */
import type { Lease } from '@farm/proto';

/** Why an attempt was aborted; decides what is reported. */
export type StopReason =
  /** The coordinator revoked the lease (cancellation or a lease it no longer holds): report CANCELLED. */
  | 'revoked'
  /** Not renewed for leaseMs: report nothing (the coordinator has requeued the job). */
  | 'fenced'
  /** The agent is shutting down: report nothing (going silent; the lease will expire). */
  | 'closing';

export interface HeldLease {
  readonly jobId: string;
  readonly epoch: string;
  renewedAt: number;
  /**
   * Whether the attempt still occupies a build slot: true from the assignment until its
   * sandbox has exited. Uploading the outputs and reporting the result happen outside the slot,
   * so the next build can start meanwhile (see releaseSlot).
   */
  building: boolean;
  readonly controller: AbortController;
  stop?: { readonly reason: StopReason; readonly detail: string };
}

const keyOf = (jobId: string, epoch: string): string => `${jobId}:${epoch}`;

export class LeaseTable {
  private readonly held = new Map<string, HeldLease>();
  private readonly waiters: (() => void)[] = [];

  get size(): number {
    return this.held.size;
  }

  has(jobId: string, epoch: string): boolean {
    return this.held.has(keyOf(jobId, epoch));
  }

  /** Holds a new lease; the caller makes sure it is not held already (see has()). */
  add(jobId: string, epoch: string, now: number): HeldLease {
    const key = keyOf(jobId, epoch);
    if (this.held.has(key)) throw new Error(`lease ${key} is already held`);
    const lease: HeldLease = { jobId, epoch, renewedAt: now, building: true, controller: new AbortController() };
    this.held.set(key, lease);
    return lease;
  }

  /** Leases whose attempts occupy a build slot. */
  get building(): number {
    let n = 0;
    for (const l of this.held.values()) if (l.building) n++;
    return n;
  }

  /** The attempt's sandbox is done: its build slot is free although the lease is still held. */
  releaseSlot(lease: HeldLease): void {
    if (!lease.building) return;
    lease.building = false;
    this.wake();
  }

  remove(lease: HeldLease): void {
    lease.building = false;
    if (this.held.get(keyOf(lease.jobId, lease.epoch)) === lease) this.held.delete(keyOf(lease.jobId, lease.epoch));
    this.wake();
  }

  /** Resolves the next time a build slot frees up or a lease is removed. */
  nextRelease(): Promise<void> {
    return new Promise((resolve) => this.waiters.push(resolve));
  }

  private wake(): void {
    for (const w of this.waiters.splice(0)) w();
  }

  /** The leases as the heartbeat lists them; stopped ones are no longer claimed. */
  leases(): Lease[] {
    return [...this.held.values()].filter((l) => l.stop === undefined).map((l) => ({ jobId: l.jobId, epoch: l.epoch }));
  }

  renew(leases: readonly { jobId: string; epoch: string }[], sentAt: number): void {
    for (const l of leases) {
      const h = this.held.get(keyOf(l.jobId, l.epoch));
      if (h !== undefined && h.renewedAt < sentAt) h.renewedAt = sentAt;
    }
  }

  /** Stops the attempt for (jobId, epoch); epoch '' or '0' matches any epoch of the job. */
  stop(jobId: string, epoch: string, reason: StopReason, detail: string): HeldLease[] {
    const hit = [...this.held.values()].filter((l) => l.jobId === jobId && (epoch === '' || epoch === '0' || l.epoch === epoch));
    for (const l of hit) this.abort(l, reason, detail);
    return hit;
  }

  /** Fences every lease last renewed leaseMs or more ago; returns them. */
  fenceExpired(now: number, leaseMs: number): HeldLease[] {
    const expired = [...this.held.values()].filter((l) => l.stop === undefined && now - l.renewedAt >= leaseMs);
    for (const l of expired) this.abort(l, 'fenced', `lease not renewed for ${now - l.renewedAt} ms (lease ${leaseMs} ms)`);
    return expired;
  }

  stopAll(reason: StopReason, detail: string): void {
    for (const l of this.held.values()) this.abort(l, reason, detail);
  }

  private abort(l: HeldLease, reason: StopReason, detail: string): void {
    if (l.stop !== undefined) return; // the first reason wins
    l.stop = { reason, detail };
    l.controller.abort(new Error(`${reason}: ${detail}`));
  }
}
