/**
 * Builds asked for through the Nix door, as farm submissions: a BuildDerivation (the client's
 * BasicDerivation, recorded in the store under its drv path) or a BuildPaths of uploaded `.drv`s
 * becomes a submission like `farm submit` makes — routed, sandboxed, logged and deduplicated
 * like any other; a derivation some other submission is building already is shared, not built
 * twice. The job's log is relayed to the client while it runs, and the outcome is mapped to
 * Nix's BuildResult statuses (spec §6.4).
 *
 * Per principal (SSH key or gRPC client) at most `maxBuilds` door builds run at once; more wait
 * here, in arrival order. A build no connected agent can do fails at once with the reason
 * (MiscFailure, as Nix says "a 'aarch64-linux' … is required"), so that the client can try
 * another builder instead of hanging.
 */
import { ATTR, FarmError, SpanKind, withSpan, type Clock, type Logger } from '@farm/common';
import {
  BuildStatus,
  drvOutputId,
  hashDerivationModulo,
  isStorePath,
  parseStorePath,
  requiredSystemFeatures,
  type BasicDerivation,
  type BuildResult,
  type BuiltOutput,
  type Derivation,
} from '@farm/nix';
import type { FarmStore } from '../ports/farm-store.js';
import type { LogSource } from '../ports/log-source.js';
import type { EventRow } from './coordinator-state.js';
import type { FarmService } from './farm-service.js';
import { ClientSlots } from './client-slots.js';
import { followLogs } from './follow-logs.js';

/** Who asks, with their per-key settings (the door's DoorPrincipal). */
export interface DoorClient {
  /** For display and logs: the key's name (its comment or `farm-name`), or the gRPC / socket client. */
  readonly name: string;
  /** Systems this client may build for; undefined = every system the farm offers. */
  readonly systems?: readonly string[] | undefined;
  /** Door builds of this client running at once (across its sessions); undefined = the farm's default. */
  readonly maxBuilds?: number | undefined;
}

export interface DoorBuildOptions {
  readonly client: DoorClient;
  /** 0 = the farm's default. */
  readonly timeoutMs?: number;
  readonly maxSilentMs?: number;
  /** Called with build log text as it arrives (whole lines, each ending in '\n'). */
  readonly onLog?: (text: string) => void;
  /** Aborted when the client goes away: the submission is cancelled. */
  readonly signal: AbortSignal;
}

export interface DoorBuildsDeps {
  readonly service: FarmService;
  readonly store: FarmStore;
  readonly logs: LogSource;
  readonly clock: Clock;
  readonly logger: Logger;
  /** Door builds one principal may run at once when its settings name none. */
  readonly defaultMaxBuilds: number;
}

/** One DerivedPath's outcome for BuildPaths. */
export interface PathBuildOutcome {
  readonly path: string;
  readonly result: BuildResult;
}

const SUCCEEDED = 'JOB_STATE_SUCCEEDED';
const ALREADY_VALID = 'JOB_STATE_ALREADY_VALID';

export class DoorBuilds {
  private readonly slots = new ClientSlots();

  constructor(private readonly deps: DoorBuildsDeps) {}

  /** BuildDerivation: the derivation as Nix sent it (no inputDrvs; inputSrcs = the input closure). */
  async buildDerivation(drvPath: string, basic: BasicDerivation, options: DoorBuildOptions): Promise<BuildResult> {
    const { store, service } = this.deps;
    const problem = checkBasicDerivation(drvPath, basic);
    if (problem !== undefined) return failure(BuildStatus.MiscFailure, problem);
    const refused = this.refusedSystem(basic.system, options.client);
    if (refused !== undefined) return failure(BuildStatus.MiscFailure, refused);
    const outputs = [...basic.outputs.values()].map((o) => o.path);
    if ((await store.missing(outputs)).length === 0) return { ...failure(BuildStatus.AlreadyValid, ''), builtOutputs: await builtOutputs(store, { ...basic, inputDrvs: new Map() }) };
    const missingInputs = await store.missing(basic.inputSrcs);
    if (missingInputs.length > 0) {
      return failure(BuildStatus.MiscFailure, `cannot build '${drvPath}': its inputs are not in the farm store (copy them first): ${missingInputs.slice(0, 5).join(', ')}${missingInputs.length > 5 ? ', …' : ''}`);
    }
    const drv: Derivation = { ...basic, inputDrvs: new Map() };
    if ((await store.recordBasicDerivation(drvPath, drv)) === 'known') {
      const known = await store.getDerivation(drvPath);
      const differs = known === undefined || [...basic.outputs].some(([name, o]) => known.outputs.get(name)?.path !== o.path) || known.outputs.size !== basic.outputs.size;
      if (differs) return failure(BuildStatus.MiscFailure, `the farm already knows '${drvPath}' with other outputs; refusing the derivation sent for it`);
    }
    const capacity = service.capacityProblemFor(basic.system, requiredSystemFeatures(drv));
    if (capacity !== undefined) {
      const features = requiredSystemFeatures(drv);
      return failure(BuildStatus.MiscFailure, `a '${basic.system}' with features {${features.join(', ')}} is required to build '${drvPath}', but the farm is ${capacity}`);
    }
    const [outcome] = await this.run([drvPath], options);
    const result = outcome!.result;
    if (result.status === BuildStatus.Built || result.status === BuildStatus.AlreadyValid) return { ...result, builtOutputs: await builtOutputs(store, drv) };
    return result;
  }

  /**
   * BuildPaths: `.drv` paths (all outputs, or the named ones) whose derivations are in the farm
   * store, built as one submission; opaque paths must be valid (the farm does not substitute).
   */
  async buildPaths(paths: readonly { readonly drvPath?: string; readonly outputs?: 'all' | readonly string[]; readonly path: string }[], options: DoorBuildOptions): Promise<PathBuildOutcome[]> {
    const { store, service } = this.deps;
    const results = new Map<string, BuildResult>();
    const roots: string[] = [];
    for (const p of paths) {
      if (p.drvPath === undefined) {
        results.set(p.path, (await store.isValidPath(p.path)) ? failure(BuildStatus.AlreadyValid, '') : failure(BuildStatus.MiscFailure, `path '${p.path}' is not valid in the farm store, and the farm does not substitute`));
        continue;
      }
      const drv = await store.getDerivation(p.drvPath);
      if (drv === undefined) {
        results.set(p.path, failure(BuildStatus.MiscFailure, `derivation '${p.drvPath}' is not in the farm store (copy it first)`));
        continue;
      }
      const refused = this.refusedSystem(drv.system, options.client);
      if (refused !== undefined) {
        results.set(p.path, failure(BuildStatus.MiscFailure, refused));
        continue;
      }
      const outs = [...drv.outputs.values()].map((o) => o.path);
      if (outs.every((o) => o !== '') && (await store.missing(outs)).length === 0) {
        results.set(p.path, failure(BuildStatus.AlreadyValid, ''));
        continue;
      }
      const capacity = service.capacityProblemFor(drv.system, requiredSystemFeatures(drv));
      if (capacity !== undefined) {
        results.set(p.path, failure(BuildStatus.MiscFailure, `a '${drv.system}' with features {${requiredSystemFeatures(drv).join(', ')}} is required to build '${p.drvPath}', but the farm is ${capacity}`));
        continue;
      }
      roots.push(p.drvPath);
    }
    if (roots.length > 0) {
      const outcomes = await this.run([...new Set(roots)], options);
      const byDrv = new Map(outcomes.map((o) => [o.path, o.result]));
      for (const p of paths) if (p.drvPath !== undefined && !results.has(p.path)) results.set(p.path, byDrv.get(p.drvPath) ?? failure(BuildStatus.MiscFailure, 'no outcome'));
    }
    // Built (or already valid) derivations name their outputs, as Nix's builtOutputs do: clients
    // such as `nix build` take the out paths from there.
    const out: PathBuildOutcome[] = [];
    for (const p of paths) {
      const result = results.get(p.path)!;
      const drv = p.drvPath === undefined ? undefined : await store.getDerivation(p.drvPath);
      const ok = result.status === BuildStatus.Built || result.status === BuildStatus.AlreadyValid;
      out.push({ path: p.path, result: ok && drv !== undefined ? { ...result, builtOutputs: await builtOutputs(store, drv, p.outputs ?? 'all') } : result });
    }
    return out;
  }

  private refusedSystem(system: string, client: DoorClient): string | undefined {
    if (client.systems === undefined || client.systems.includes(system)) return undefined;
    return `'${client.name}' may not build for system '${system}' on this farm (allowed: ${client.systems.join(', ') || 'none'})`;
  }

  /**
   * Submits `roots` inside a root span `nix door build` (tracing: the submission's admission and
   * its jobs' spans join that trace), relays their logs, waits for the submission to end.
   */
  private run(roots: readonly string[], options: DoorBuildOptions): Promise<PathBuildOutcome[]> {
    const attributes = { [ATTR.client]: options.client.name, [ATTR.drvPath]: roots[0] ?? '', 'farm.roots': roots.length };
    return withSpan('nix door build', attributes, () => this.runSubmission(roots, options), { root: true, kind: SpanKind.SERVER });
  }

  /** Submits `roots`, relays their logs, waits for the submission to end; one outcome per root. */
  private async runSubmission(roots: readonly string[], options: DoorBuildOptions): Promise<PathBuildOutcome[]> {
    const { service, logger } = this.deps;
    const release = await this.acquire(options.client, options.signal);
    try {
      if (options.signal.aborted) return roots.map((path) => ({ path, result: failure(BuildStatus.MiscFailure, 'the client went away') }));
      const submitted = await service.submit({
        roots: roots.map((drvPath) => ({ drvPath, outputs: [], attrPath: '' })),
        priority: 0,
        client: `door:${options.client.name}`.slice(0, 256),
        timeoutMs: String(options.timeoutMs ?? 0),
        maxSilentMs: String(options.maxSilentMs ?? 0),
      });
      const id = submitted.submissionId ?? '';
      logger.info({ submissionId: id, roots: roots.length, client: options.client.name }, 'door build submitted');
      const onAbort = () => void service.cancel(id).catch(() => undefined);
      options.signal.addEventListener('abort', onAbort, { once: true });
      const relays = new AbortController();
      const relaying = roots.map((r) => this.relayLog(r, options, relays.signal));
      try {
        const last = new Map<string, EventRow>();
        const watchAbort = new AbortController();
        for await (const e of service.watch(id, 0, watchAbort.signal)) {
          if (e.drvPath !== '') last.set(e.drvPath, e);
          if (e.final) break;
        }
        watchAbort.abort();
        // Let each relay deliver the log's end (its eof) before the result goes out.
        await Promise.race([Promise.all(relaying), new Promise((r) => setTimeout(r, 3000).unref())]);
        return roots.map((path) => ({ path, result: this.outcomeOf(path, last.get(path)) }));
      } finally {
        relays.abort();
        options.signal.removeEventListener('abort', onAbort);
      }
    } finally {
      release();
    }
  }

  private async relayLog(drvPath: string, options: DoorBuildOptions, signal: AbortSignal): Promise<void> {
    const onLog = options.onLog;
    if (onLog === undefined) return;
    const jobId = parseStorePath(drvPath).hashPart;
    let partial = '';
    const decoder = new TextDecoder();
    try {
      await followLogs({ service: this.deps.service, logs: this.deps.logs, graceMs: 2000 }, jobId, true, signal, async (chunk) => {
        const text = partial + decoder.decode(chunk.data, { stream: !chunk.eof });
        const cut = chunk.eof ? text.length : text.lastIndexOf('\n') + 1;
        partial = text.slice(cut);
        let lines = text.slice(0, cut);
        if (chunk.eof && lines !== '' && !lines.endsWith('\n')) lines += '\n';
        if (lines !== '') onLog(lines);
      });
    } catch (e) {
      if (!signal.aborted) this.deps.logger.debug({ err: e, drvPath }, 'door log relay ended');
    }
  }

  private outcomeOf(drvPath: string, event: EventRow | undefined): BuildResult {
    const build = (this.deps.service.listBuilds(drvPath).builds ?? []).at(-1);
    const times = build === undefined ? { startTime: 0, stopTime: 0 } : { startTime: Math.floor(Number(build.assignedMs) / 1000), stopTime: Math.floor(Number(build.finishedMs) / 1000) };
    const state = event?.state;
    if (state === SUCCEEDED) return { ...failure(BuildStatus.Built, ''), timesBuilt: 1, ...times };
    if (state === ALREADY_VALID) return failure(BuildStatus.AlreadyValid, '');
    // The agent's message is what Nix would say; the event's reason repeats the log's last
    // lines, which the client has seen already.
    const reason = build?.message || event?.reason || `the farm could not build '${drvPath}'`;
    switch (state) {
      case 'JOB_STATE_DEPENDENCY_FAILED':
        return { ...failure(BuildStatus.DependencyFailed, reason), ...times };
      case 'JOB_STATE_CANCELLED':
        return failure(BuildStatus.MiscFailure, `the build of '${drvPath}' was cancelled: ${reason}`);
      default:
        return { ...failure(statusOfFailedBuild(build?.status), reason), ...times };
    }
  }

  private acquire(client: DoorClient, signal: AbortSignal): Promise<() => void> {
    return this.slots.acquire(client.name, client.maxBuilds ?? this.deps.defaultMaxBuilds, signal);
  }
}

function failure(status: number, errorMsg: string): BuildResult {
  return { status, errorMsg, timesBuilt: 0, isNonDeterministic: false, startTime: 0, stopTime: 0, builtOutputs: [] };
}

/** The agent's build status (BuildRow.status) as Nix's BuildResult status. */
function statusOfFailedBuild(status: string | undefined): number {
  switch (status) {
    case 'failed':
    case 'output-missing':
      return BuildStatus.PermanentFailure;
    case 'timed-out':
    case 'silent-too-long':
      return BuildStatus.TimedOut;
    case 'log-limit':
      return BuildStatus.LogLimitExceeded;
    default:
      // Infrastructure failures the farm gave up retrying, or no build at all.
      return BuildStatus.MiscFailure;
  }
}

/** What is wrong with a BasicDerivation the farm is asked to build, if anything. */
function checkBasicDerivation(drvPath: string, basic: BasicDerivation): string | undefined {
  if (!isStorePath(drvPath) || !parseStorePath(drvPath).name.endsWith('.drv')) return `'${drvPath}' is not a .drv store path`;
  if (basic.outputs.size === 0) return `derivation '${drvPath}' has no outputs`;
  for (const [name, o] of basic.outputs) {
    if (o.path === '') return `derivation '${drvPath}' has no static path for output '${name}' (content-addressed derivations are not supported by the farm)`;
    if (!isStorePath(o.path)) return `output '${name}' of '${drvPath}' is not a store path: '${o.path}'`;
  }
  for (const p of basic.inputSrcs) if (!isStorePath(p)) return `input '${p}' of '${drvPath}' is not a store path`;
  if (basic.system === '' || basic.builder === '') return `derivation '${drvPath}' has no system or no builder`;
  return undefined;
}

/**
 * builtOutputs as Nix 2.8's server computes them: DrvOutput ids from the derivation the farm
 * holds (for a BuildDerivation, the one received: no inputDrvs), its input derivations read
 * from the store; Realisation JSON with keys sorted and the output path as a base name (spec §5.3).
 */
async function builtOutputs(store: FarmStore, drv: Derivation, wanted: 'all' | readonly string[] = 'all'): Promise<BuiltOutput[]> {
  try {
    const { hashes } = await hashDerivationModulo(drv, true, async (p) => {
      const input = await store.getDerivation(p);
      if (input === undefined) throw new FarmError('NOT_FOUND', `input derivation ${p} is not in the farm store`);
      return input;
    });
    const out: BuiltOutput[] = [];
    for (const [name, o] of [...drv.outputs].sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0))) {
      const hash = hashes.get(name);
      if (hash === undefined || o.path === '' || (wanted !== 'all' && !wanted.includes(name))) continue;
      const id = drvOutputId(hash, name);
      const outPath = o.path.slice(o.path.lastIndexOf('/') + 1);
      out.push({ id, realisation: JSON.stringify({ dependentRealisations: {}, id, outPath, signatures: [] }) });
    }
    return out;
  } catch {
    // builtOutputs matter to clients with ca-derivations and to `nix build`'s out paths; a
    // derivation whose inputs the farm lacks gets none rather than failing the build.
    return [];
  }
}
