/**
 * CoordinatorState over one LMDB environment (`<stateDir>/state.mdb`):
 *
 * | database      | key (string)                          | value (msgpack)  |
 * |---------------|---------------------------------------|------------------|
 * | `submissions` | submission id                         | SubmissionRow    |
 * | `events`      | `<submissionId>/<seq, 12 digits>`     | EventRow         |
 * | `jobs`        | full `.drv` path                      | JobRow           |
 * | `builds`      | `<drvPath>/<epoch, 12 digits>`        | BuildRow         |
 *
 * Zero-padded numbers make LMDB's byte order the numeric order, so a submission's events and a
 * derivation's builds are one range scan: keys of one prefix lie between `<p>/` and `<p>0`
 * ('0' is the byte after '/'; neither ids nor store paths continue past a '/' suffix).
 */
import { FarmError } from '@farm/common';
import { openLmdbEnv, type LmdbEnv } from '../lmdb/env.js';
import type { BuildRow, CoordinatorState, EventRow, JobRow, StateBatch, SubmissionRow } from '../../service/coordinator-state.js';

export const STATE_DATABASES = {
  submissions: 'msgpack',
  events: 'msgpack',
  jobs: 'msgpack',
  builds: 'msgpack',
} as const;

type Name = keyof typeof STATE_DATABASES;

const pad = (n: number): string => String(n).padStart(12, '0');
export const eventKey = (submissionId: string, seq: number): string => `${submissionId}/${pad(seq)}`;
export const buildKey = (drvPath: string, epoch: number): string => `${drvPath}/${pad(epoch)}`;

export class LmdbCoordinatorState implements CoordinatorState {
  private closed = false;

  private constructor(private readonly env: LmdbEnv<Name>) {}

  static open(file: string): LmdbCoordinatorState {
    return new LmdbCoordinatorState(openLmdbEnv({ file, databases: STATE_DATABASES }));
  }

  private get dbs() {
    if (this.closed) throw new FarmError('UNAVAILABLE', 'the coordinator state is closed');
    return this.env.dbs;
  }

  /**
   * Plain puts, all issued in one synchronous run: lmdb-js puts every write of one event turn into
   * the same transaction (eventTurnBatching, on by default), so the batch commits atomically, and
   * each put's promise resolves after that transaction's durable commit. Unlike a transaction
   * callback this needs no round trip from lmdb's writer thread back to the event loop (measured:
   * the callbacks were most of the coordinator's LMDB time). A batch has no reads or conditions
   * that would need a callback.
   */
  async commit(batch: StateBatch): Promise<void> {
    const dbs = this.dbs;
    const writes: Promise<boolean>[] = [];
    for (const s of batch.submissions ?? []) writes.push(dbs.submissions.put(s.id, s));
    for (const e of batch.events ?? []) writes.push(dbs.events.put(eventKey(e.submissionId, e.sequence), e));
    for (const j of batch.jobs ?? []) writes.push(dbs.jobs.put(j.drvPath, j));
    for (const b of batch.builds ?? []) writes.push(dbs.builds.put(buildKey(b.drvPath, b.epoch), b));
    await Promise.all(writes);
  }

  getSubmission(id: string): SubmissionRow | undefined {
    return this.dbs.submissions.get(id) as SubmissionRow | undefined;
  }

  listSubmissions(): SubmissionRow[] {
    const rows = [...this.dbs.submissions.getRange({})].map((e) => e.value as SubmissionRow);
    return rows.sort((a, b) => a.createdMs - b.createdMs || (a.id < b.id ? -1 : a.id > b.id ? 1 : 0));
  }

  events(submissionId: string, fromSequence: number): EventRow[] {
    const start = eventKey(submissionId, Math.max(0, fromSequence));
    return [...this.dbs.events.getRange({ start, end: `${submissionId}0` })].map((e) => e.value as EventRow);
  }

  getJob(drvPath: string): JobRow | undefined {
    return this.dbs.jobs.get(drvPath) as JobRow | undefined;
  }

  listJobs(): JobRow[] {
    return [...this.dbs.jobs.getRange({})].map((e) => e.value as JobRow);
  }

  listBuilds(drvPath?: string): BuildRow[] {
    const range = drvPath === undefined ? {} : { start: `${drvPath}/`, end: `${drvPath}0` };
    return [...this.dbs.builds.getRange(range)].map((e) => e.value as BuildRow);
  }

  getBuild(drvPath: string, epoch: number): BuildRow | undefined {
    return this.dbs.builds.get(buildKey(drvPath, epoch)) as BuildRow | undefined;
  }

  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    await this.env.close();
  }
}
