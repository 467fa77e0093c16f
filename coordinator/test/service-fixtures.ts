/**
 * Helpers for the service and gRPC tests: a whole coordinator minus NATS (real farm store, real
 * LMDB state, FarmService, gRPC server on loopback, a gRPC client), real derivations from
 * `nix-instantiate`, their upload through the gRPC API, an in-memory LogSource, and a fake agent
 * that drives the AgentApi in-process and uploads fabricated outputs under its lease.
 */
import { execFileSync } from 'node:child_process';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { after } from 'node:test';
import { join } from 'node:path';
import type { ClientReadableStream, ServiceError } from '@grpc/grpc-js';
import { FarmError, farmErrorFromGrpc, silentLogger, systemClock, type Clock } from '@farm/common';
import { sha256 } from '@farm/nix';
import {
  createCoordinatorClient,
  decodeMessage,
  encodeMessage,
  type AddPathResponse__Output,
  type Assignment__Output,
  type BuildResult__Output,
  type CoordinatorClient,
  type LogChunk__Output,
  type PathInfo,
  type SubmissionEvent__Output,
  type SubmitResponse__Output,
  type WorkReply__Output,
} from '@farm/proto';
import {
  FarmService,
  openCoordinatorState,
  openFarmStore,
  startGrpcServer,
  type CoordinatorState,
  type FarmServiceOptions,
  type LmdbFarmStore,
  type LogReadOptions,
  type LogSource,
  type RunningGrpcServer,
} from '../src/index.js';
import { narOf } from './store-fixtures.js';

export const SERVICE_OPTIONS: FarmServiceOptions = {
  leaseMs: 15_000,
  heartbeatMs: 3_000,
  maxAttempts: 3,
  maxLogBytes: 1024 * 1024,
  defaultTimeoutMs: 0,
  defaultMaxSilentMs: 0,
  // Retries are due at once here: these tests are about what is retried, not when (the
  // backoff itself is tested on the pure scheduler with a fake clock).
  retry: { backoffBaseMs: 0 },
};

// ------------------------------------------------------------------ in-memory LogSource

export class MemoryLogSource implements LogSource {
  private readonly chunks = new Map<string, LogChunk__Output[]>();
  private readonly waiters = new Set<() => void>();

  append(chunk: { jobId: string; epoch: number; seq: number; data: string; eof?: boolean; truncated?: boolean }): void {
    const list = this.chunks.get(chunk.jobId) ?? [];
    list.push({
      jobId: chunk.jobId,
      epoch: String(chunk.epoch),
      seq: String(chunk.seq),
      data: Buffer.from(chunk.data),
      truncated: chunk.truncated ?? false,
      eof: chunk.eof ?? false,
    });
    this.chunks.set(chunk.jobId, list);
    for (const w of [...this.waiters]) w();
  }

  /** Reads in progress (a cancelled Logs call must end its read). */
  active = 0;

  async *read(jobId: string, options: LogReadOptions): AsyncIterable<LogChunk__Output> {
    this.active++;
    try {
      yield* this.readChunks(jobId, options);
    } finally {
      this.active--;
    }
  }

  private async *readChunks(jobId: string, options: LogReadOptions): AsyncIterable<LogChunk__Output> {
    const list = () => this.chunks.get(jobId) ?? [];
    const end = list().length;
    let i = 0;
    for (;;) {
      while (i < list().length && (options.follow || i < end)) {
        if (options.signal.aborted) return;
        yield list()[i++]!;
      }
      if (!options.follow || options.signal.aborted) return;
      await new Promise<void>((resolve) => {
        const done = () => {
          this.waiters.delete(done);
          options.signal.removeEventListener('abort', done);
          resolve();
        };
        this.waiters.add(done);
        options.signal.addEventListener('abort', done, { once: true });
      });
    }
  }
}

// ------------------------------------------------------------------ a coordinator without NATS

export interface TestFarm {
  readonly dir: string;
  store: LmdbFarmStore;
  state: CoordinatorState;
  service: FarmService;
  grpc: RunningGrpcServer;
  client: CoordinatorClient;
  readonly logs: MemoryLogSource;
  /** Closes everything (service, server, client, store, state) but keeps the directory. */
  stop(): Promise<void>;
  /** stop() then open everything again from the same directory. */
  restart(): Promise<void>;
}

export interface FarmOptions {
  readonly clock?: Clock;
  readonly options?: Partial<FarmServiceOptions>;
  readonly logEofGraceMs?: number;
}

/**
 * Farms still open when the file's tests end (a test that timed out never reaches its finally):
 * closed by a root `after` hook so the process can exit and the temp dirs go away.
 */
const openFarms = new Set<{ stop(): Promise<void>; dir: string }>();
after(async () => {
  for (const f of openFarms) {
    await f.stop().catch(() => {});
    await rm(f.dir, { recursive: true, force: true });
  }
});

export async function withFarm<T>(fn: (farm: TestFarm) => Promise<T>, options: FarmOptions = {}): Promise<T> {
  const dir = await mkdtemp(join(tmpdir(), 'farm-service-'));
  const logs = new MemoryLogSource();
  const open = async () => {
    const store = await openFarmStore({ dir: join(dir, 'store') });
    const state = openCoordinatorState(dir);
    const logger = silentLogger();
    const service = await FarmService.open({ store, state, clock: options.clock ?? systemClock, logger, options: { ...SERVICE_OPTIONS, ...options.options } });
    service.start();
    const grpc = await startGrpcServer({ service, store, logs, logger, ...(options.logEofGraceMs !== undefined ? { logEofGraceMs: options.logEofGraceMs } : {}) }, '127.0.0.1:0');
    const client = createCoordinatorClient(grpc.address);
    return { store, state, service, grpc, client };
  };
  let running = true;
  const farm: TestFarm = {
    dir,
    logs,
    ...(await open()),
    async stop() {
      if (!running) return;
      running = false;
      farm.client.close();
      await farm.grpc.close();
      await farm.service.close();
      await farm.state.close();
      await farm.store.close();
    },
    async restart() {
      await farm.stop();
      Object.assign(farm, await open());
      running = true;
    },
  };
  openFarms.add(farm);
  try {
    return await fn(farm);
  } finally {
    await farm.stop();
    await rm(dir, { recursive: true, force: true });
    openFarms.delete(farm);
  }
}

// ------------------------------------------------------------------ gRPC helpers

type Callback<T> = (err: ServiceError | null, res?: T) => void;

/** Calls a unary RPC; a gRPC error comes back as the FarmError it carries. */
export function call<Req, Res>(client: CoordinatorClient, method: string, request: Req): Promise<Res> {
  return new Promise((resolve, reject) => {
    const fn = (client as unknown as Record<string, (req: Req, cb: Callback<Res>) => void>)[method]!;
    fn.call(client, request, (err, res) => (err !== null ? reject(farmErrorFromGrpc(err)) : resolve(res!)));
  });
}

/** Every message of a server stream, or the FarmError it ended with. */
/** Submits the roots by drv path; `extra` adds or overrides request fields (client defaults to 'test'). */
export function submitRoots(farm: { readonly client: CoordinatorClient }, roots: readonly string[], extra: object = {}): Promise<SubmitResponse__Output> {
  return call<object, SubmitResponse__Output>(farm.client, 'Submit', { roots: roots.map((drvPath) => ({ drvPath })), client: 'test', ...extra });
}

export function collect<T>(stream: ClientReadableStream<T>): Promise<T[]> {
  return new Promise((resolve, reject) => {
    const out: T[] = [];
    stream.on('data', (m: T) => out.push(m));
    stream.on('error', (e: ServiceError) => reject(farmErrorFromGrpc(e)));
    stream.on('end', () => resolve(out));
  });
}

export function watch(client: CoordinatorClient, submissionId: string, fromSequence = 0): Promise<SubmissionEvent__Output[]> {
  return collect(client.Watch({ submissionId, fromSequence }));
}

/** Uploads one path: a header (optionally with a lease) then the NAR in chunks. */
export function addPath(
  client: CoordinatorClient,
  info: PathInfo,
  nar: Uint8Array,
  lease?: { jobId: string; epoch: number | string },
  options: { chunk?: number; noHeader?: boolean; extraHeader?: boolean } = {},
): Promise<AddPathResponse__Output> {
  return new Promise((resolve, reject) => {
    const stream = client.AddPath((err, res) => (err !== null ? reject(farmErrorFromGrpc(err)) : resolve(res!)));
    if (options.noHeader !== true) stream.write({ header: { info, ...(lease !== undefined ? { lease } : {}) } });
    const size = options.chunk ?? 64 * 1024;
    for (let i = 0; i < nar.length; i += size) {
      stream.write({ nar: nar.subarray(i, i + size) });
      if (options.extraHeader === true && i === 0) stream.write({ header: { info } });
    }
    stream.end();
  });
}

export async function rejectsWith(promise: Promise<unknown>, code: FarmError['code'], message: RegExp): Promise<FarmError> {
  try {
    await promise;
  } catch (e) {
    if (!(e instanceof FarmError)) throw e;
    if (e.code !== code || !message.test(e.message)) throw new Error(`expected ${code} ${message}, got ${e.code}: ${e.message}`);
    return e;
  }
  throw new Error(`expected ${code} ${message}, but it succeeded`);
}

// ------------------------------------------------------------------ real derivations

function run(cmd: string, args: string[]): string {
  return execFileSync(cmd, args, { encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'], maxBuffer: 64 * 1024 * 1024 });
}
const lines = (s: string) => s.split('\n').filter((l) => l !== '');

/**
 * `nix-instantiate` of `expr` (an attribute set) for the attributes `attrs`; returns attr → drv path.
 * `salt` makes the derivations unique to a test.
 */
export async function instantiate(expr: string, attrs: readonly string[]): Promise<Record<string, string>> {
  const dir = await mkdtemp(join(tmpdir(), 'farm-service-nix-'));
  try {
    await writeFile(join(dir, 'default.nix'), expr);
    const paths = lines(run('nix-instantiate', [join(dir, 'default.nix'), ...attrs.flatMap((a) => ['-A', a])]));
    return Object.fromEntries(attrs.map((a, i) => [a, paths[i]!]));
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
}

/**
 * A diamond with a source: a ← {b, c} ← top, `a` reads a builtins.toFile source, `top` has two
 * outputs; `other` needs a system no test agent has (`riscv64-linux`) and `feature` needs the
 * `big-parallel` feature.
 */
export function diamondExpression(salt: string): string {
  return `
let
  sys = builtins.currentSystem;
  script = builtins.toFile "svc-${salt}-script.sh" "echo hello from ${salt}";
  mk = name: deps: extra: derivation ({
    name = "svc-${salt}-\${name}";
    system = sys;
    builder = "/bin/sh";
    args = [ "-c" "echo \${name} > $out" ];
    inherit deps;
  } // extra);
  a = mk "a" [] { src = script; };
  b = mk "b" [ a ] {};
  c = mk "c" [ a ] {};
  top = mk "top" [ b c ] { outputs = [ "out" "doc" ]; };
  other = mk "other" [ a ] { system = "riscv64-linux"; };
  feature = mk "feature" [] { requiredSystemFeatures = [ "big-parallel" ]; };
in { inherit a b c top other feature; }
`;
}

export const DIAMOND_ATTRS = ['a', 'b', 'c', 'top', 'other', 'feature'] as const;

/** The closure of `drvs` in the local Nix store (.drv files and sources), dependencies first. */
export function nixClosure(drvs: readonly string[]): string[] {
  const all = lines(run('nix-store', ['-qR', ...drvs]));
  const refs = new Map(all.map((p) => [p, lines(run('nix-store', ['-q', '--references', p])).filter((r) => r !== p)]));
  const out: string[] = [];
  const seen = new Set<string>();
  const visit = (p: string) => {
    if (seen.has(p)) return;
    seen.add(p);
    for (const r of refs.get(p) ?? []) visit(r);
    out.push(p);
  };
  all.forEach(visit);
  return out;
}

/** The PathInfo (as sent by a client) and NAR of a path in the local Nix store. */
export function localPath(path: string): { info: PathInfo; nar: Buffer } {
  const nar = execFileSync('nix-store', ['--dump', path], { maxBuffer: 256 * 1024 * 1024 });
  const references = lines(run('nix-store', ['-q', '--references', path])).sort();
  return { info: { path, narHash: sha256(nar).toPrefixed('nix32'), narSize: nar.length, references }, nar };
}

/** Uploads what the farm is missing of the closure of `drvs` the way the CLI does; returns what was sent. */
export async function uploadClosure(client: CoordinatorClient, drvs: readonly string[]): Promise<string[]> {
  const closure = nixClosure(drvs);
  const { missing } = await call<{ paths: string[] }, { missing: string[] }>(client, 'QueryMissing', { paths: closure });
  const wanted = new Set(missing);
  const sent: string[] = [];
  for (const p of closure) {
    if (!wanted.has(p)) continue;
    const { info, nar } = localPath(p);
    await addPath(client, info, nar);
    sent.push(p);
  }
  return sent;
}

// ------------------------------------------------------------------ a fake agent

export const HOST_SYSTEM = run('nix-instantiate', ['--eval', '--expr', 'builtins.currentSystem']).trim().replace(/"/g, '');

export interface FakeAgentOptions {
  readonly systems?: string[];
  readonly supportedFeatures?: string[];
  readonly maxJobs?: number;
  readonly running?: { jobId: string; epoch: number }[];
}

/** Registers `name` with the service (in-process, as the NATS gateway would). */
export async function registerAgent(service: FarmService, name: string, options: FakeAgentOptions = {}): Promise<void> {
  await service.register({
    name,
    host: `${name}.test`,
    version: 'test',
    running: (options.running ?? []).map((l) => ({ jobId: l.jobId, epoch: String(l.epoch) })),
    capabilities: {
      systems: options.systems ?? [HOST_SYSTEM],
      supportedFeatures: options.supportedFeatures ?? [],
      mandatoryFeatures: [],
      emulated: {},
      maxJobs: options.maxJobs ?? 4,
      speedFactor: 1,
    },
  });
}

/** One work request; waitMs 0 unless given. */
export async function requestWork(service: FarmService, agentId: string, freeSlots = 4, waitMs = 0, signal: AbortSignal = new AbortController().signal): Promise<Assignment__Output[]> {
  const reply = await service.requestWork({ agentId, freeSlots, waitMs: String(waitMs) }, signal);
  // What the agent gets is what crossed NATS: encode and decode as the gateway and agent do.
  return decodeMessage<WorkReply__Output>('WorkReply', encodeMessage('WorkReply', reply as Record<string, unknown>)).assignments;
}

/** A fabricated build of every output of the assignment: one file per output. */
export async function fabricateOutputs(a: Assignment__Output): Promise<{ info: PathInfo; nar: Buffer }[]> {
  const out: { info: PathInfo; nar: Buffer }[] = [];
  for (const [, o] of Object.entries(a.drv!.outputs)) {
    const nar = await narOf(`built ${o.path}\n`);
    out.push({ info: { path: o.path, deriver: a.drvPath, narHash: sha256(nar).toPrefixed('nix32'), narSize: nar.length, references: [] }, nar });
  }
  return out;
}

/** Uploads fabricated outputs under the assignment's lease (over gRPC) and reports BUILT. */
export async function buildAndReport(farm: TestFarm, agentId: string, a: Assignment__Output): Promise<{ accepted: boolean; reason?: string }> {
  for (const { info, nar } of await fabricateOutputs(a)) await addPath(farm.client, info, nar, a.lease!);
  return farm.service.applyResult(result(agentId, a, 'BUILD_STATUS_BUILT'));
}

export function result(agentId: string, a: Assignment__Output, status: BuildResult__Output['status'], message = '', logTail = ''): BuildResult__Output {
  return {
    lease: { jobId: a.lease!.jobId, epoch: a.lease!.epoch },
    agentId,
    status,
    message,
    outputs: [],
    logTail: Buffer.from(logTail),
    startMs: '0',
    stopMs: '0',
    outputNars: [],
  };
}

/** Keeps requesting work and building everything it gets until `until()` holds. */
export async function drain(farm: TestFarm, agentId: string, until: () => Promise<boolean>): Promise<Assignment__Output[]> {
  const done: Assignment__Output[] = [];
  while (!(await until())) {
    const work = await requestWork(farm.service, agentId, 4, 2000);
    for (const a of work) {
      const r = await buildAndReport(farm, agentId, a);
      if (!r.accepted) throw new Error(`result refused: ${r.reason}`);
      done.push(a);
    }
  }
  return done;
}
