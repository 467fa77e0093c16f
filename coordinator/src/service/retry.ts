/**
 * `farm retry <submission|drv|job>`: forget cached build failures and submit anew, so the failed
 * derivations are built again together with their dependents (those restart because their input
 * is no longer failed). It is always a NEW submission: a done submission never gets new events.
 *
 * - A submission id retries that submission's jobs that failed on their own, with the same roots,
 *   priority and per-job limits; FAILED_PRECONDITION when it has none.
 * - A drv path (or its base name) or a job id retries that one job, which must have failed on its
 *   own (a dependency-failed job names the input to retry instead), with the roots of the newest
 *   submission that needed it — so what depended on it is rebuilt too — or the drv alone.
 *
 * After a coordinator restart the scheduler no longer knows done submissions (their failures are
 * not cached any more either): the persisted events and job rows answer instead.
 */
import { FarmError } from '@farm/common';
import { DEFAULT_STORE_DIR, parseStorePath } from '@farm/nix';
import type { RetryResponse, SubmitRequest__Output, SubmitResponse } from '@farm/proto';
import type { Scheduler } from '../core/scheduler.js';
import type { JobStatus } from '../core/scheduler-types.js';
import type { EventRow, JobRow, SubmissionRow } from './coordinator-state.js';
import { invalid } from './errors.js';
import { drvPath as checkDrvPath, JOB_ID } from './validate.js';

export interface RetryDeps {
  readonly scheduler: Pick<Scheduler, 'failedJobsOf' | 'forgetFailure' | 'jobStatus'>;
  /** A submission's row: this run's live one, else the persisted one. */
  submission(id: string): SubmissionRow | undefined;
  /** A submission's persisted events, in order. */
  events(submissionId: string): readonly EventRow[];
  /** A job's row: this run's view, else the persisted one. */
  job(drvPath: string): JobRow | undefined;
  /** The drv path with this hash part in the farm store, if any. */
  drvOfHashPart(hashPart: string): Promise<string | undefined>;
  /** The Submit RPC's own path (validation, admission, commit). */
  submit(request: SubmitRequest__Output): Promise<SubmitResponse>;
}

/** A submission id as the farm makes them (`sub_…`); anything printable without spaces. */
const SUBMISSION_ID = /^[\x21-\x7e]{1,128}$/;

/** How far a chain of dependency failures is followed to the input that failed itself. */
const MAX_CHAIN = 256;

type Target = { kind: 'submission'; id: string } | { kind: 'job'; jobId: string; drvPath?: string };

export async function retry(deps: RetryDeps, request: { target?: unknown }): Promise<RetryResponse> {
  const target = parseTarget(request.target);
  return target.kind === 'submission' ? retrySubmission(deps, target.id) : retryJob(deps, target.jobId, target.drvPath);
}

/** Tells a submission id, a drv path (or base name) and a job id apart; INVALID_ARGUMENT otherwise. */
export function parseTarget(value: unknown): Target {
  if (value === undefined || value === null || value === '') throw invalid('Retry needs a target: a submission id, a drv path or a job id');
  if (typeof value !== 'string') throw invalid('target must be a string');
  if (value.startsWith('/')) {
    const drv = checkDrvPath(value, 'target');
    return { kind: 'job', jobId: parseStorePath(drv).hashPart, drvPath: drv };
  }
  if (JOB_ID.test(value)) return { kind: 'job', jobId: value };
  if (value.endsWith('.drv') && !value.includes('/')) {
    const drv = checkDrvPath(`${DEFAULT_STORE_DIR}/${value}`, 'target');
    return { kind: 'job', jobId: parseStorePath(drv).hashPart, drvPath: drv };
  }
  if (!SUBMISSION_ID.test(value)) throw invalid(`target '${value.slice(0, 200)}' is neither a submission id, a drv path nor a job id`);
  return { kind: 'submission', id: value };
}

async function retrySubmission(deps: RetryDeps, id: string): Promise<RetryResponse> {
  const row = deps.submission(id);
  if (row === undefined) throw new FarmError('NOT_FOUND', `no submission ${id}`, { submissionId: id });
  const failed = new Map<string, string>();
  for (const jobId of deps.scheduler.failedJobsOf(id)) {
    const drv = deps.scheduler.jobStatus(jobId)?.drvPath;
    if (drv !== undefined) failed.set(jobId, drv);
  }
  if (failed.size === 0) for (const [jobId, drv] of persistedFailures(deps, id)) failed.set(jobId, drv);
  if (failed.size === 0) throw new FarmError('FAILED_PRECONDITION', `submission ${id} has no failed jobs to retry`, { submissionId: id });
  // Forgotten just before the submission is admitted: its admission then restarts them.
  for (const jobId of failed.keys()) deps.scheduler.forgetFailure(jobId);
  return submitRetry(deps, row, row.roots, [...failed.values()].sort(), id);
}

/**
 * The jobs of a submission the scheduler no longer knows (done before a restart) that failed on
 * their own in it and are still failed: the last event of each job in that submission says
 * FAILED, and neither this run nor the persisted job row has seen it end otherwise since.
 */
function persistedFailures(deps: RetryDeps, id: string): Map<string, string> {
  const last = new Map<string, EventRow>();
  for (const e of deps.events(id)) if (!e.final && e.jobId !== '') last.set(e.jobId, e);
  const out = new Map<string, string>();
  for (const [jobId, e] of last) {
    if (e.state !== 'JOB_STATE_FAILED') continue;
    const now = deps.scheduler.jobStatus(jobId)?.status ?? deps.job(e.drvPath)?.status;
    if (now === 'failed') out.set(jobId, e.drvPath);
  }
  return out;
}

async function retryJob(deps: RetryDeps, jobId: string, given: string | undefined): Promise<RetryResponse> {
  const current = deps.scheduler.jobStatus(jobId);
  // A drv path with the job's hash but another name is not that job.
  if (current !== undefined && (given === undefined || current.drvPath === given)) {
    const drv = current.drvPath;
    if (current.status !== 'failed') throw notFailed(deps, drv, current.status, current.reason);
    if (!deps.scheduler.forgetFailure(jobId)) throw new FarmError('FAILED_PRECONDITION', `job ${drv} is not failed any more`, { job: drv });
    const newest = current.submissions
      .map((s) => deps.submission(s))
      .filter((r) => r !== undefined)
      .reduce<SubmissionRow | undefined>((a, b) => (a === undefined || b.createdMs >= a.createdMs ? b : a), undefined);
    return newest === undefined ? submitRetry(deps, undefined, [drv], [drv], '') : submitRetry(deps, newest, newest.roots, [drv], newest.id);
  }
  // Not a job of this run: what the persisted job row says (its failure is not cached any more).
  const drv = given ?? (await deps.drvOfHashPart(jobId));
  const row = drv === undefined ? undefined : deps.job(drv);
  if (drv === undefined || row === undefined || row.jobId !== jobId) {
    const what = given ?? jobId;
    throw new FarmError('NOT_FOUND', `no job for ${what}: it was never submitted, or its outputs were already valid`, { job: what });
  }
  if (row.status !== 'failed') throw notFailed(deps, drv, row.status, row.reason);
  return submitRetry(deps, undefined, [drv], [drv], '');
}

/** FAILED_PRECONDITION for a job that did not fail on its own, naming the input to retry when that is why. */
function notFailed(deps: RetryDeps, drv: string, status: JobStatus, reason: string | undefined): FarmError {
  if (status !== 'dependency-failed') {
    return new FarmError('FAILED_PRECONDITION', `job ${drv} is ${status}, not failed: only a failed job can be retried`, { job: drv, state: status });
  }
  const input = failedInputOf(deps, reason);
  const hint = input === undefined ? 'retry the input that failed, or its submission' : `retry that input instead: farm retry ${input.drvPath}`;
  const because = input === undefined ? 'an input failed' : `its input ${input.drvPath} ${input.status === 'failed' ? 'failed' : `is ${input.status}`}`;
  return new FarmError('FAILED_PRECONDITION', `job ${drv} did not fail itself but because ${because}; ${hint}`, {
    job: drv,
    state: status,
    ...(input !== undefined ? { input: input.drvPath } : {}),
  });
}

/** Follows "dependency failed: <drv>" reasons to the input that failed (or was cancelled) itself. */
function failedInputOf(deps: RetryDeps, reason: string | undefined): { drvPath: string; status: JobStatus } | undefined {
  let found: { drvPath: string; status: JobStatus } | undefined;
  let why = reason;
  for (let i = 0; i < MAX_CHAIN; i++) {
    const drv = /^dependency failed: (\/\S+\.drv)/.exec(why ?? '')?.[1];
    if (drv === undefined) break;
    let jobId: string;
    try {
      jobId = parseStorePath(drv).hashPart;
    } catch {
      break;
    }
    const now = deps.scheduler.jobStatus(jobId) ?? deps.job(drv);
    found = { drvPath: drv, status: now?.status ?? 'failed' };
    if (now?.status !== 'dependency-failed') break;
    why = now.reason;
  }
  return found;
}

async function submitRetry(deps: RetryDeps, like: SubmissionRow | undefined, roots: readonly string[], retried: string[], retryOf: string): Promise<RetryResponse> {
  const r = await deps.submit({
    roots: roots.map((drvPath) => ({ drvPath, outputs: [], attrPath: '' })),
    priority: like?.priority ?? 0,
    client: `retry of ${retryOf !== '' ? retryOf : retried[0]!}`,
    timeoutMs: String(like?.timeoutMs ?? 0),
    maxSilentMs: String(like?.maxSilentMs ?? 0),
  });
  return {
    submissionId: r.submissionId ?? '',
    retried,
    retryOf,
    roots: [...roots],
    jobsTotal: r.jobsTotal ?? 0,
    alreadyValid: r.alreadyValid ?? 0,
    shared: r.shared ?? 0,
  };
}
