/**
 * Generated DAGs with known durations for the scheduling benchmarks (issue 4: makespan on large
 * DAGs on heterogeneous agents). Everything is a pure function of the options: the same seed
 * gives the same jobs, drv paths and durations on every machine, so runs are comparable.
 *
 * Job names model packages: several jobs share a family name `pkg<k>` with similar durations
 * (as successive versions or variants of one package would), because the scheduler learns
 * durations per name with the version stripped (Nix's rule: the version starts at the first '-'
 * not followed by a letter). Versions always start with a digit, names never contain such a '-'.
 */
import { FarmError } from '@farm/common';
import { compressHash, encodeNix32, sha256 } from '@farm/nix';

export interface SimJob {
  readonly drvPath: string; // `/nix/store/<32 nix32 chars>-<name>-<version>.drv`, unique
  readonly system: string; // 'x86_64-linux' unless the generator says otherwise
  readonly requiredFeatures: readonly string[];
  readonly inputDrvs: readonly string[]; // drvPaths of SimJobs in the same DAG
  readonly durationMs: number; // true build time on a speed-factor-1 agent
}

/** `jobs` is topological (inputs first); `roots` are the jobs nothing in the DAG depends on. */
export interface SimDag {
  readonly name: string;
  readonly jobs: readonly SimJob[];
  readonly roots: readonly string[];
}

export interface DagOptions {
  readonly seed: number;
  readonly jobs: number;
}

const SECOND = 1000;
const MINUTE = 60 * SECOND;

// ---------------------------------------------------------------------------------------------
// Measures

/** The longest chain of durations: the makespan with unlimited agents of speed factor 1. */
export function criticalPathMs(dag: SimDag): number {
  const finish = new Map<string, number>();
  let longest = 0;
  for (const job of dag.jobs) {
    let start = 0;
    for (const input of job.inputDrvs) {
      const f = finish.get(input);
      if (f === undefined) throw new FarmError('INVALID_ARGUMENT', `${job.drvPath}: input ${input} is not an earlier job of DAG ${dag.name}`);
      if (f > start) start = f;
    }
    const end = start + job.durationMs;
    finish.set(job.drvPath, end);
    if (end > longest) longest = end;
  }
  return longest;
}

export function totalWorkMs(dag: SimDag): number {
  let sum = 0;
  for (const job of dag.jobs) sum += job.durationMs;
  return sum;
}

const DRV_PATH_RE = /^\/nix\/store\/[0-9a-df-np-sv-z]{32}-[A-Za-z0-9+._?=-]+\.drv$/;

/**
 * Checks the SimDag contract (unique well-formed drv paths, inputs are earlier jobs, roots are
 * exactly the jobs without dependents, positive durations); FarmError INVALID_ARGUMENT if not.
 * Generators call it, so a bug in one shows up where the DAG is made, not in a simulation.
 */
export function validateDag(dag: SimDag): void {
  const seen = new Set<string>();
  const used = new Set<string>();
  const bad = (msg: string): never => {
    throw new FarmError('INVALID_ARGUMENT', `DAG ${dag.name}: ${msg}`);
  };
  for (const job of dag.jobs) {
    if (!DRV_PATH_RE.test(job.drvPath)) bad(`malformed drv path ${job.drvPath}`);
    if (seen.has(job.drvPath)) bad(`duplicate drv path ${job.drvPath}`);
    if (!(Number.isFinite(job.durationMs) && job.durationMs > 0)) bad(`${job.drvPath}: duration ${job.durationMs}`);
    for (const input of job.inputDrvs) {
      if (!seen.has(input)) bad(`${job.drvPath}: input ${input} is not an earlier job`);
      used.add(input);
    }
    if (new Set(job.inputDrvs).size !== job.inputDrvs.length) bad(`${job.drvPath}: duplicate inputs`);
    seen.add(job.drvPath);
  }
  const roots = dag.jobs.filter((j) => !used.has(j.drvPath)).map((j) => j.drvPath);
  if (roots.length !== dag.roots.length || roots.some((r, i) => dag.roots[i] !== r)) bad('roots are not the jobs without dependents (in job order)');
}

// ---------------------------------------------------------------------------------------------
// Deterministic randomness and names

/** mulberry32: a tiny 32-bit PRNG, plenty for shaping DAGs; returns floats in [0, 1). */
export function mulberry32(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

/**
 * A drv path whose hash part is derived from `key` (sha256 folded to 160 bits, as Nix folds
 * store path hashes): stable for a key, and distinct keys collide with negligible probability
 * (a 32-bit PRNG state would not do: with 10^5 jobs a collision would be likely).
 */
export function simDrvPath(key: string, name: string, version: string): string {
  const hash = encodeNix32(compressHash(sha256(key).digest, 20));
  return `/nix/store/${hash}-${name}-${version}.drv`;
}

class Rng {
  private readonly next: () => number;
  constructor(seed: number) {
    this.next = mulberry32(seed);
  }
  float(): number {
    return this.next();
  }
  /** Integer in [lo, hi]. */
  int(lo: number, hi: number): number {
    return lo + Math.floor(this.next() * (hi - lo + 1));
  }
  pick<T>(items: readonly T[]): T {
    const item = items[Math.floor(this.next() * items.length)];
    if (item === undefined) throw new FarmError('INTERNAL', 'pick from an empty list');
    return item;
  }
  /** Standard normal (Box–Muller). */
  normal(): number {
    const u = 1 - this.next(); // (0, 1]: log is finite
    return Math.sqrt(-2 * Math.log(u)) * Math.cos(2 * Math.PI * this.next());
  }
  /** Log-normal around `medianMs`, clamped to [minMs, maxMs], whole milliseconds. */
  logNormalMs(medianMs: number, sigma: number, minMs: number, maxMs: number): number {
    return clampMs(medianMs * Math.exp(sigma * this.normal()), minMs, maxMs);
  }
}

function clampMs(ms: number, minMs: number, maxMs: number): number {
  return Math.round(Math.min(maxMs, Math.max(minMs, ms)));
}

/** A package family: jobs of one family share a name and have durations within ±15 % of its base. */
interface Family {
  readonly name: string;
  readonly baseMs: number;
  readonly big: boolean;
  count: number; // jobs made so far, for the version
}

function makeFamilies(rng: Rng, prefix: string, count: number, base: () => number, bigShare = 0): Family[] {
  const families: Family[] = [];
  for (let k = 0; k < count; k++) families.push({ name: `${prefix}${k}`, baseMs: base(), big: rng.float() < bigShare, count: 0 });
  return families;
}

/** A job of `family`: version `1.<n>` (n-th job of the family), duration jittered around its base. */
function familyJob(
  rng: Rng,
  key: string,
  family: Family,
  inputDrvs: readonly string[],
  limits: { readonly minMs: number; readonly maxMs: number },
  system = 'x86_64-linux',
  scale = 1,
): SimJob {
  const version = `1.${family.count++}`;
  const durationMs = clampMs(scale * family.baseMs * (0.85 + 0.3 * rng.float()), limits.minMs, limits.maxMs);
  return {
    drvPath: simDrvPath(key, family.name, version),
    system,
    requiredFeatures: family.big ? ['big'] : [],
    inputDrvs,
    durationMs,
  };
}

function finishDag(name: string, jobs: SimJob[]): SimDag {
  const used = new Set<string>();
  for (const j of jobs) for (const i of j.inputDrvs) used.add(i);
  const dag: SimDag = { name, jobs, roots: jobs.filter((j) => !used.has(j.drvPath)).map((j) => j.drvPath) };
  validateDag(dag);
  return dag;
}

function checkOptions(kind: string, o: DagOptions, minJobs = 1): void {
  if (!Number.isSafeInteger(o.seed)) throw new FarmError('INVALID_ARGUMENT', `${kind}: seed must be an integer, got ${o.seed}`);
  if (!Number.isSafeInteger(o.jobs) || o.jobs < minJobs) throw new FarmError('INVALID_ARGUMENT', `${kind}: jobs must be an integer ≥ ${minJobs}, got ${o.jobs}`);
}

/** Distinct keys per generator and seed, so DAGs of different kinds never share a drv path. */
function keyOf(kind: string, seed: number, index: number): string {
  return `farm-bench-sim:${kind}:${seed}:${index}`;
}

// ---------------------------------------------------------------------------------------------
// Layered (and mixed systems)

export interface LayeredOptions extends DagOptions {
  /** Number of layers L; default ≈ √jobs / 2 (1,000 jobs → 16 layers of 63). */
  readonly layers?: number;
}

const LAYERED_LIMITS = { minMs: 1 * SECOND, maxMs: 10 * MINUTE };
/** Jobs needing `big` take 3× their family's base, capped at 30 min instead of 10. */
const BIG_LIMITS = { minMs: 1 * SECOND, maxMs: 30 * MINUTE };
/** Log-normal with median 30 s and σ 1.2: most jobs take seconds to a minute, a tail reaches 10 min. */
const layeredBase = (rng: Rng) => () => rng.logNormalMs(30 * SECOND, 1.2, LAYERED_LIMITS.minMs, LAYERED_LIMITS.maxMs);

interface LayeredShape {
  readonly kind: string;
  readonly aarch64Share: number;
  readonly bigShare: number;
}

/**
 * L layers × W wide. A job of layer ≥ 1 depends on 1–3 jobs of earlier layers: the first always
 * from the layer just before (so the DAG is L deep), the others from any earlier layer. With
 * several systems, inputs are taken from jobs of the job's own system when the layer has some
 * (a Nix closure rarely crosses systems).
 */
function layered(options: LayeredOptions, shape: LayeredShape): SimDag {
  checkOptions(shape.kind, options);
  const { seed, jobs: n } = options;
  const layerCount = options.layers ?? Math.max(1, Math.round(Math.sqrt(n) / 2));
  if (!Number.isSafeInteger(layerCount) || layerCount < 1 || layerCount > n) {
    throw new FarmError('INVALID_ARGUMENT', `${shape.kind}: layers must be an integer in [1, jobs], got ${layerCount}`);
  }
  const width = Math.ceil(n / layerCount);
  const rng = new Rng(seed);
  const families = makeFamilies(rng, 'pkg', Math.max(1, Math.ceil(n / 4)), layeredBase(rng), shape.bigShare);
  const layers: SimJob[][] = [];
  const jobs: SimJob[] = [];
  const sameSystem = (layer: readonly SimJob[], system: string) => {
    const same = layer.filter((j) => j.system === system);
    return same.length > 0 ? same : layer;
  };
  for (let l = 0; l < layerCount; l++) {
    const layer: SimJob[] = [];
    for (let w = 0; w < width && jobs.length < n; w++) {
      const system = rng.float() < shape.aarch64Share ? 'aarch64-linux' : 'x86_64-linux';
      const inputs = new Set<string>();
      const previous = layers[l - 1];
      if (previous !== undefined) {
        inputs.add(rng.pick(sameSystem(previous, system)).drvPath);
        const extra = rng.int(0, 2);
        for (let e = 0; e < extra; e++) {
          const earlier = layers[rng.int(0, l - 1)] ?? previous;
          inputs.add(rng.pick(sameSystem(earlier, system)).drvPath);
        }
      }
      const family = rng.pick(families);
      const job = family.big
        ? familyJob(rng, keyOf(shape.kind, seed, jobs.length), family, [...inputs], BIG_LIMITS, system, 3)
        : familyJob(rng, keyOf(shape.kind, seed, jobs.length), family, [...inputs], LAYERED_LIMITS, system);
      layer.push(job);
      jobs.push(job);
    }
    if (layer.length > 0) layers.push(layer);
  }
  return finishDag(`${shape.kind}-s${seed}-n${n}`, jobs);
}

/** L × W layers, 1–3 inputs each from earlier layers, durations log-normal in [1 s, 10 min]. */
export function layeredDag(options: LayeredOptions): SimDag {
  return layered(options, { kind: 'layered', aarch64Share: 0, bigShare: 0 });
}

/**
 * Like `layeredDag`, but ~20 % of the jobs are `aarch64-linux` (per job) and ~5 % require the
 * feature `big` (per package family: a big package is big in every version; its builds take
 * 3× longer, up to 30 min), so agents with different systems and features matter.
 */
export function mixedSystemsDag(options: LayeredOptions): SimDag {
  return layered(options, { kind: 'mixed', aarch64Share: 0.2, bigShare: 0.05 });
}

// ---------------------------------------------------------------------------------------------
// Fork-join

export interface ForkJoinOptions extends DagOptions {
  /** Length of the critical chain; default 20–40 (from the seed). */
  readonly chain?: number;
}

/**
 * A toolchain bootstrap: a chain of `chain` steps of 1–5 min each (`stage<k>`), and many short
 * jobs (1–30 s, log-uniform, families `tool<k>`) hanging off the chain steps — each depends on a
 * random step and, half the time, on an earlier short job — and a final `release` job joining
 * the chain's end and every short job nothing else depends on (so there is one root).
 *
 * The job order puts a step's short jobs *before* the next chain step: a scheduler that builds
 * ready jobs oldest-first (by submission order) keeps running short jobs while the chain waits,
 * which is the case where critical-path-first wins.
 */
export function forkJoinDag(options: ForkJoinOptions): SimDag {
  checkOptions('forkjoin', options, 3);
  const { seed, jobs: n } = options;
  const rng = new Rng(seed);
  const chainLength = options.chain ?? rng.int(20, 40);
  if (!Number.isSafeInteger(chainLength) || chainLength < 1 || chainLength > n - 1) {
    throw new FarmError('INVALID_ARGUMENT', `forkjoin: chain must be an integer in [1, jobs - 1], got ${chainLength}`);
  }
  const shortCount = n - chainLength - 1; // minus the release job
  const chainLimits = { minMs: 1 * MINUTE, maxMs: 5 * MINUTE };
  const shortLimits = { minMs: 1 * SECOND, maxMs: 30 * SECOND };
  const logUniform = (lo: number, hi: number) => () => Math.round(lo * Math.pow(hi / lo, rng.float()));
  // Each chain step is its own package; its jitter stays within 1–5 min by the clamp.
  const stages = makeFamilies(rng, 'stage', chainLength, () => rng.int(chainLimits.minMs, chainLimits.maxMs));
  const tools = makeFamilies(rng, 'tool', Math.max(1, Math.ceil(shortCount / 5)), logUniform(shortLimits.minMs, shortLimits.maxMs));
  // Which chain step each short job hangs off, decided up front so they can be placed after it.
  const hangsOff: number[][] = Array.from({ length: chainLength }, () => []);
  for (let s = 0; s < shortCount; s++) hangsOff[rng.int(0, chainLength - 1)]!.push(s);

  const jobs: SimJob[] = [];
  const shortJobs: SimJob[] = [];
  const key = () => keyOf('forkjoin', seed, jobs.length);
  let previousStage: SimJob | undefined;
  for (let c = 0; c < chainLength; c++) {
    const stage = familyJob(rng, key(), stages[c]!, previousStage === undefined ? [] : [previousStage.drvPath], chainLimits);
    jobs.push(stage);
    previousStage = stage;
    for (let k = 0; k < hangsOff[c]!.length; k++) {
      const inputs = [stage.drvPath];
      if (shortJobs.length > 0 && rng.float() < 0.5) inputs.push(rng.pick(shortJobs).drvPath);
      const job = familyJob(rng, key(), rng.pick(tools), inputs, shortLimits);
      jobs.push(job);
      shortJobs.push(job);
    }
  }
  const used = new Set<string>();
  for (const j of jobs) for (const i of j.inputDrvs) used.add(i);
  const dangling = jobs.filter((j) => !used.has(j.drvPath)).map((j) => j.drvPath);
  const release: Family = { name: 'release', baseMs: rng.int(1 * SECOND, 5 * SECOND), big: false, count: 0 };
  jobs.push(familyJob(rng, key(), release, dangling, { minMs: 1 * SECOND, maxMs: 5 * SECOND }));
  return finishDag(`forkjoin-s${seed}-n${n}`, jobs);
}
