/**
 * One build attempt, from assignment to result:
 *   fetch missing inputs (verified) → build in the sandbox (log bytes → LogPublisher) → upload
 *   the outputs in reference order under the lease → eof on the log → BuildResult on JetStream
 *   with msg id `<job>:<epoch>` (so a retried publish is stored once).
 * Every stage honours the lease's AbortSignal. What is reported depends on why an attempt was
 * stopped (lease-table.ts): a revoked one reports CANCELLED; a fenced one (lease not renewed in
 * time) or one stopped by shutdown reports nothing, because the coordinator has given — or will
 * give — the job to someone else under a new epoch.
 * Failures are classified as the contract says: fetch/upload problems are TRANSFER_ERROR; a
 * derivation the builder refuses outright is FAILED; anything else unexpected is SANDBOX_ERROR
 * (an infrastructure failure the coordinator retries).
 *
 * Tracing: an attempt whose WorkReply carried its lease's trace context runs in the span
 * `build` (child of the coordinator's `lease`), with children `fetch inputs`, `sandbox run`,
 * `hash outputs` (build-derivation.ts) and `upload outputs`; its BuildResult carries the
 * `build` span's traceparent in the message headers, so `apply result` joins the trace.
 */
import { setTimeout as sleep } from 'node:timers/promises';
import { ATTR, FarmError, hasSpan, injectIntoHeaders, isFarmError, recording, SpanStatusCode, withSpan, type Clock, type Context, type Logger, type Span } from '@farm/common';
import { headers, type MsgHdrs } from '@nats-io/transport-node';
import { classifyOutput, dumpNarToBuffer, renderContentAddress, sortedBytewise, type BasicDerivation } from '@farm/nix';
import { encodeMessage, INLINE_NAR_MAX, INLINE_NARS_BUDGET, resultMessageId, SUBJECTS, type Assignment__Output, type PathInfo } from '@farm/proto';
import { buildDerivation } from '../build/build-derivation.js';
import type { BuildHooks, BuildRequest, BuildResult, BuiltOutput } from '../build/types.js';
import type { Emulator } from '../emulation.js';
import { LogPublisher, type JsPublish } from '../logs/log-publisher.js';
import type { LocalStore } from '../store/local-store.js';
import type { NarFetcher, UploadRequest } from '../transfer/nar-transfer.js';
import { viewAssignment, type AssignmentView } from './assignment.js';
import type { HeldLease } from './lease-table.js';
import { referenceOrder } from './output-order.js';
import { PhaseTimer } from './phase-timer.js';
import { buildResultMessage, wireStatusOf, type AttemptOutcome, type WireBuildStatus } from './result-message.js';

export interface AttemptDeps {
  readonly agentId: string;
  readonly store: LocalStore;
  readonly getNar: NarFetcher;
  readonly addPath: (req: UploadRequest) => Promise<unknown>;
  readonly publish: JsPublish;
  readonly workDir: string;
  readonly sandboxPaths: readonly string[];
  /** How this agent runs the builders of the systems it emulates (emulation.ts). */
  readonly emulators?: readonly Emulator[];
  readonly cores: number;
  /** Small outputs ride with the result instead of AddPath (default true). */
  readonly inlineOutputs?: boolean;
  readonly clock: Clock;
  readonly logger: Logger;
  /** Aborted when the agent shuts down: publishing stops retrying. */
  readonly shutdown: AbortSignal;
  /** The builder; injectable for tests. */
  readonly build?: (request: BuildRequest, hooks: BuildHooks) => Promise<BuildResult>;
}

/** What happened, for the caller's logs and tests. */
export type AttemptReport = { readonly reported: true; readonly status: WireBuildStatus } | { readonly reported: false; readonly why: string };

/**
 * `releaseSlot` is called once the sandbox is done (or the attempt ended before building), so
 * the session can start the next build while this one uploads and reports.
 */
export function runAttempt(deps: AttemptDeps, assignment: Assignment__Output, held: HeldLease, releaseSlot: () => void = () => {}, trace?: Context): Promise<AttemptReport> {
  if (trace === undefined || !hasSpan(trace)) return runTracedAttempt(undefined, deps, assignment, held, releaseSlot);
  const attributes = {
    [ATTR.drvPath]: assignment.drvPath,
    [ATTR.jobId]: held.jobId,
    [ATTR.epoch]: Number(held.epoch),
    [ATTR.agent]: deps.agentId,
    [ATTR.system]: assignment.drv?.system ?? '',
  };
  return withSpan('build', attributes, (span) => runTracedAttempt(span, deps, assignment, held, releaseSlot), { parent: trace });
}

async function runTracedAttempt(span: Span | undefined, deps: AttemptDeps, assignment: Assignment__Output, held: HeldLease, releaseSlot: () => void): Promise<AttemptReport> {
  const log = deps.logger.child({ jobId: held.jobId, epoch: held.epoch, drvPath: assignment.drvPath });
  const startMs = deps.clock.now();
  const signal = held.controller.signal;
  const maxLogBytes = Number(assignment.maxLogBytes) > 0 ? Number(assignment.maxLogBytes) : undefined;
  const logs = new LogPublisher({
    jobId: held.jobId,
    epoch: held.epoch,
    publish: deps.publish,
    maxLogBytes,
    stopRetrying: deps.shutdown,
    onPublishError: (e, seq, attempt) => {
      if (attempt === 1 || attempt % 20 === 0) log.warn({ err: e, seq, attempt }, 'publishing a log chunk failed; retrying');
    },
  });

  let outcome: AttemptOutcome;
  const phases = new PhaseTimer();
  try {
    outcome = await attempt(deps, assignment, signal, logs, startMs, phases, releaseSlot);
  } catch (e) {
    log.error({ err: e }, 'attempt failed unexpectedly');
    outcome = { status: 'BUILD_STATUS_SANDBOX_ERROR', message: `agent error: ${(e as Error).message}`, outputs: [], logTail: [], startMs, stopMs: deps.clock.now() };
  }
  releaseSlot();
  await logs.finish();
  phases.mark('logs');

  const stop = held.stop;
  if (stop !== undefined && stop.reason !== 'revoked') {
    log.warn({ reason: stop.reason, detail: stop.detail }, 'attempt stopped; no result is reported');
    return { reported: false, why: `${stop.reason}: ${stop.detail}` };
  }
  if (stop?.reason === 'revoked') {
    outcome = { ...outcome, status: 'BUILD_STATUS_CANCELLED', message: `build of '${assignment.drvPath}' was cancelled (lease revoked: ${stop.detail})`, outputs: [] };
  }
  if (recording(span)) {
    span.setAttribute(ATTR.outcome, outcome.status);
    if (outcome.status !== 'BUILD_STATUS_BUILT') span.setStatus({ code: SpanStatusCode.ERROR, message: outcome.message.slice(0, 500) });
  }
  const result = buildResultMessage(deps.agentId, { jobId: held.jobId, epoch: held.epoch }, outcome);
  const published = await publishResult(deps, held, encodeMessage('BuildResult', result as Record<string, unknown>), log, traceHeaders(span));
  if (!published) return { reported: false, why: 'shutdown before the result was published' };
  phases.mark('result');
  log.info({ status: outcome.status, ms: outcome.stopMs - outcome.startMs, phases: phases.get() }, outcome.message === '' ? 'build finished' : outcome.message);
  return { reported: true, status: outcome.status };
}

async function attempt(deps: AttemptDeps, assignment: Assignment__Output, signal: AbortSignal, logs: LogPublisher, startMs: number, phases: PhaseTimer, releaseSlot: () => void): Promise<AttemptOutcome> {
  const done = (status: WireBuildStatus, message: string, extra: Partial<AttemptOutcome> = {}): AttemptOutcome => ({
    status,
    message,
    outputs: [],
    logTail: [],
    startMs,
    stopMs: deps.clock.now(),
    ...extra,
  });
  let view: AssignmentView;
  try {
    view = viewAssignment(assignment);
  } catch (e) {
    return done('BUILD_STATUS_FAILED', `cannot build '${assignment.drvPath}': ${(e as Error).message}`);
  }

  try {
    await withSpan('fetch inputs', {}, async (span) => {
      const fetched = await deps.store.fetchMissing(assignment.inputs, withInlineNars(assignment, deps.getNar), signal);
      if (recording(span)) span.setAttributes({ [ATTR.bytes]: fetched.bytes, [ATTR.paths]: fetched.fetched, 'farm.inputs': assignment.inputs.length });
    });
  } catch (e) {
    if (signal.aborted) return done('BUILD_STATUS_CANCELLED', `build of '${view.drvPath}' was stopped while fetching its inputs`);
    return done('BUILD_STATUS_TRANSFER_ERROR', `cannot fetch the inputs of '${view.drvPath}': ${(e as Error).message}`);
  }
  phases.mark('fetch');

  let built: BuildResult;
  try {
    built = await (deps.build ?? buildDerivation)(
      {
        drvPath: view.drvPath,
        drv: view.drv,
        storeRoot: deps.store.root,
        inputClosure: view.inputPaths,
        sandboxPaths: deps.sandboxPaths,
        emulator: deps.emulators?.find((e) => e.system === view.drv.system),
        cores: deps.cores,
        timeoutMs: view.timeoutMs,
        maxSilentMs: view.maxSilentMs,
        maxLogBytes: view.maxLogBytes,
        workDir: deps.workDir,
      },
      { onLog: (c) => logs.write(c), signal, clock: deps.clock },
    );
  } catch (e) {
    // Refused before anything ran: the derivation itself cannot be built here (INVALID_ARGUMENT
    // is the derivation's fault, anything else — no bwrap, an input gone — is the host's).
    const status = isFarmError(e, 'INVALID_ARGUMENT') ? 'BUILD_STATUS_FAILED' : 'BUILD_STATUS_SANDBOX_ERROR';
    return done(status, (e as Error).message);
  }
  phases.mark('build');
  releaseSlot();
  const tail = { logTail: built.logTail };
  if (built.status !== 'built') return done(wireStatusOf(built.status), built.message, tail);

  const order = referenceOrder(view.drvPath, built.outputs);
  if (!order.ok) return done('BUILD_STATUS_FAILED', order.message, tail);
  return withSpan('upload outputs', {}, async (span) => {
    const uploaded = await uploadOutputs(deps, view, order.order, signal, phases, tail, done);
    if (recording(span)) {
      span.setAttributes({ [ATTR.bytes]: order.order.reduce((n, o) => n + o.narSize, 0), [ATTR.paths]: order.order.length, 'farm.inline': uploaded.outputNars !== undefined });
      if (uploaded.status !== 'BUILD_STATUS_BUILT') span.setStatus({ code: SpanStatusCode.ERROR, message: uploaded.message.slice(0, 500) });
    }
    return uploaded;
  });
}

/** The outputs to the farm store: with the result when small (inline), else AddPath each in reference order. */
async function uploadOutputs(
  deps: AttemptDeps,
  view: AssignmentView,
  toUpload: readonly BuiltOutput[],
  signal: AbortSignal,
  phases: PhaseTimer,
  tail: Partial<AttemptOutcome>,
  done: (status: WireBuildStatus, message: string, extra?: Partial<AttemptOutcome>) => AttemptOutcome,
): Promise<AttemptOutcome> {
  const order = { order: toUpload };
  const infos: PathInfo[] = [];
  const inline = deps.inlineOutputs === false ? undefined : inlineOutputNars(order.order, (p) => deps.store.localPath(p));
  if (inline !== undefined) {
    // Small outputs ride with the result (no AddPath calls); the coordinator verifies them.
    phases.mark('upload');
    const outputs = order.order.map((o) => pathInfoOf(view.drvPath, view.drv, o));
    return done('BUILD_STATUS_BUILT', '', { ...tail, outputs, outputNars: inline });
  }
  for (const o of order.order) {
    const info = pathInfoOf(view.drvPath, view.drv, o);
    try {
      await deps.addPath({ info, lease: { jobId: view.jobId, epoch: view.epoch }, localPath: deps.store.localPath(o.path), signal });
    } catch (e) {
      if (signal.aborted) return done('BUILD_STATUS_CANCELLED', `build of '${view.drvPath}' was stopped while uploading its outputs`, tail);
      return done('BUILD_STATUS_TRANSFER_ERROR', `cannot upload output '${o.name}' (${o.path}) of '${view.drvPath}': ${(e as Error).message}`, tail);
    }
    infos.push(info);
  }
  phases.mark('upload');
  return done('BUILD_STATUS_BUILT', '', { ...tail, outputs: infos });
}

/** Headers carrying the `build` span's traceparent (undefined when not traced). */
function traceHeaders(span: Span | undefined): MsgHdrs | undefined {
  if (!recording(span)) return undefined;
  const h = headers();
  injectIntoHeaders(h);
  return h;
}

/** A NarFetcher that serves the assignment's inline input NARs and asks `getNar` for the rest. */
function withInlineNars(assignment: Assignment__Output, getNar: NarFetcher): NarFetcher {
  const inline = new Map((assignment.inputNars ?? []).map((n) => [n.path, n.nar] as const));
  if (inline.size === 0) return getNar;
  return (path, signal) => {
    const nar = inline.get(path);
    if (nar === undefined) return getNar(path, signal);
    inline.delete(path); // served once; the store verifies it against the input's PathInfo
    return (async function* () {
      yield nar;
    })();
  };
}

/**
 * The outputs' NARs, when all of them are small enough to ride with the result (each at most
 * INLINE_NAR_MAX, INLINE_NARS_BUDGET in all), in reference order; undefined otherwise. Each NAR
 * is dumped again and must still match what the build hashed (the tree must not have changed).
 */
function inlineOutputNars(outputs: readonly BuiltOutput[], localPath: (path: string) => string): { path: string; nar: Uint8Array }[] | undefined {
  const total = outputs.reduce((n, o) => n + o.narSize, 0);
  if (total > INLINE_NARS_BUDGET || outputs.some((o) => o.narSize > INLINE_NAR_MAX)) return undefined;
  return outputs.map((o) => {
    const dumped = dumpNarToBuffer(localPath(o.path));
    if (!dumped.narHash.equals(o.narHash) || dumped.narSize !== o.narSize) {
      throw new FarmError('FAILED_PRECONDITION', `${o.path} changed on disk since it was built`);
    }
    return { path: o.path, nar: dumped.nar };
  });
}

/** The PathInfo an output is uploaded and reported with. */
export function pathInfoOf(drvPath: string, drv: BasicDerivation, o: BuiltOutput): PathInfo {
  const declared = drv.outputs.get(o.name);
  let ca = '';
  if (declared !== undefined) {
    const kind = classifyOutput(o.name, declared);
    if (kind.kind === 'fixed') ca = renderContentAddress({ method: 'fixed', ingestion: kind.method, hash: kind.hash });
  }
  return {
    path: o.path,
    deriver: drvPath,
    narHash: o.narHash.toPrefixed('nix32'),
    narSize: String(o.narSize),
    references: sortedBytewise(o.references),
    ca,
  };
}

/**
 * Publishes the result until JetStream acknowledges it (the stream may not exist yet while the
 * coordinator starts). Gives up only when the agent shuts down (after one last try), or when
 * the lease was fenced meanwhile. Returns whether it was stored.
 */
async function publishResult(deps: AttemptDeps, held: HeldLease, bytes: Uint8Array, log: Logger, trace?: MsgHdrs): Promise<boolean> {
  const msgID = resultMessageId(held.jobId, held.epoch);
  for (let attempt = 1; ; attempt++) {
    try {
      await deps.publish(SUBJECTS.results(deps.agentId), bytes, trace === undefined ? { msgID } : { msgID, headers: trace });
      return true;
    } catch (e) {
      if (attempt === 1 || attempt % 20 === 0) log.warn({ err: e, attempt }, 'publishing the result failed; retrying');
      if (deps.shutdown.aborted) return false;
      if (held.stop !== undefined && held.stop.reason !== 'revoked') return false;
      await sleep(Math.min(2000, 50 * 2 ** Math.min(attempt, 6)), undefined, { signal: deps.shutdown }).catch(() => undefined);
    }
  }
}

