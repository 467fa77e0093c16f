/**
 * Throughput benchmark: a generated DAG of trivial derivations (bench/dag/default.nix, default
 * 25 layers × 40 = 1,000) built from scratch by the farm (`farm up` with two agents of one job
 * each, `farm submit` of the instantiated roots: upload + schedule + sandboxed builds + output
 * upload) and by `nix-store --realise --max-jobs 2`, in one run, twice: as Nix is configured on
 * these machines (`sandbox = false`), and with Nix's own sandbox on and the same sandbox paths
 * as the farm's agents — the like-for-like comparison, since every farm build is sandboxed.
 * The farm and the first Nix run build the same instantiated `.drv` files; the sandboxed Nix run
 * builds the same DAG with another salt (its outputs would otherwise already be valid). A fresh
 * salt per run makes every derivation new to both stores. Also reports the farm's ready→assigned
 * dispatch latency (p50/p99) from the coordinator's own build records (ListBuilds), and the
 * whole machine's CPU time during each phase (from /proc/stat: the run is CPU-bound on small
 * machines, so CPU per derivation is what decides the wall time).
 *
 *   npm run bench:farm -- [--layers 25] [--width 40] [--runs 1] [--json]
 */
import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, readlinkSync, rmSync } from 'node:fs';
import { cpus, tmpdir } from 'node:os';
import { join } from 'node:path';
import { createCoordinatorClient, type BuildRecord__Output } from '@farm/proto';
import { REPO_ROOT, runFarm, startFarmUp } from '@farm/testkit';
import { median } from './door-profile.js';

export interface FarmBenchOptions {
  readonly layers: number;
  readonly width: number;
  readonly agents: number;
  readonly maxJobs: number;
}

export interface FarmBenchResult {
  readonly derivations: number;
  readonly farmSeconds: number;
  readonly nixSeconds: number;
  /** farm / nix wall time (≤ 1 means the farm is at least as fast). */
  readonly ratio: number;
  /** `nix-store --realise --max-jobs 2 --option sandbox true` with the agents' sandbox paths. */
  readonly nixSandboxedSeconds: number;
  readonly ratioSandboxed: number;
  /** Machine CPU seconds (all processes, user + system) during each phase. */
  readonly farmCpuSeconds: number;
  readonly nixCpuSeconds: number;
  readonly nixSandboxedCpuSeconds: number;
  readonly builds: number;
  readonly dispatchP50Ms: number;
  readonly dispatchP99Ms: number;
  readonly cpus: number;
  readonly command: string;
}

export function sh(cmd: string, args: readonly string[]): string {
  const r = spawnSync(cmd, args, { encoding: 'utf8', maxBuffer: 64 << 20, cwd: REPO_ROOT });
  if (r.error !== undefined || r.status !== 0) throw new Error(`${cmd} ${args.join(' ')} failed: ${String(r.error ?? r.stderr)}`);
  return r.stdout;
}

export function percentile(xs: readonly number[], p: number): number {
  if (xs.length === 0) return Number.NaN;
  const s = [...xs].sort((a, b) => a - b);
  return s[Math.min(s.length - 1, Math.max(0, Math.ceil((p / 100) * s.length) - 1))]!;
}

export function listBuilds(address: string): Promise<BuildRecord__Output[]> {
  const client = createCoordinatorClient(address);
  return new Promise<BuildRecord__Output[]>((resolve, reject) =>
    client.ListBuilds({}, (err, reply) => {
      client.close();
      if (err || reply === undefined) reject(err ?? new Error('no reply'));
      else resolve(reply.builds);
    }),
  );
}

/** The machine's busy CPU time so far, in seconds (user, nice, system, irq, softirq, steal). */
export function machineCpuSeconds(): number {
  const line = readFileSync('/proc/stat', 'utf8').split('\n')[0]!.trim().split(/\s+/).map(Number);
  const [, user, nice, system, , , irq, softirq, steal] = line;
  return ((user ?? 0) + (nice ?? 0) + (system ?? 0) + (irq ?? 0) + (softirq ?? 0) + (steal ?? 0)) / CLOCK_TICKS;
}
const CLOCK_TICKS = 100;

/** The agents' default sandbox paths (agent config `sandboxPaths`), in Nix's `sandbox-paths` syntax. */
const SANDBOX_PATHS = '/bin /usr /lib /lib64?';

export function instantiate(dir: string, name: string, salt: string, options: FarmBenchOptions): string[] {
  const expr = join(REPO_ROOT, 'bench', 'dag', 'default.nix');
  const common = ['--argstr', 'salt', salt, '--arg', 'layers', String(options.layers), '--arg', 'width', String(options.width)];
  // --add-root keeps the .drv files (and later the outputs) from the garbage collector.
  return sh('nix-instantiate', [expr, '-A', 'top', ...common, '--add-root', join(dir, name), '--indirect'])
    .split('\n')
    .filter((l) => l !== '')
    .map((l) => readlinkSync(l));
}

function realise(dir: string, roots: readonly string[], extra: readonly string[]): { seconds: number; cpuSeconds: number } {
  const cpu0 = machineCpuSeconds();
  const t0 = process.hrtime.bigint();
  sh('nix-store', ['--realise', ...roots, '--max-jobs', '2', '--option', 'substituters', '', ...extra, '--add-root', join(dir, 'out'), '--indirect']);
  return { seconds: Number(process.hrtime.bigint() - t0) / 1e9, cpuSeconds: machineCpuSeconds() - cpu0 };
}

export async function runFarmBench(options: FarmBenchOptions): Promise<FarmBenchResult> {
  const dir = mkdtempSync(join(tmpdir(), 'farm-bench-'));
  try {
    const salt = `${Date.now()}-${process.pid}`;
    const roots = instantiate(dir, 'drv', salt, options);
    const sandboxedRoots = instantiate(dir, 'drv-sandboxed', `${salt}-sandboxed`, options);
    const derivations = options.layers * options.width;

    const farm = await startFarmUp({ stateDir: join(dir, 'farm'), args: ['--agents', String(options.agents), '--max-jobs', String(options.maxJobs)] });
    let farmSeconds: number;
    let records: BuildRecord__Output[];
    let farmCpuSeconds: number;
    try {
      const cpu0 = machineCpuSeconds();
      const t0 = process.hrtime.bigint();
      const run = await runFarm(['submit', '--coordinator', farm.grpc, ...roots], { timeoutMs: 3_600_000 });
      farmSeconds = Number(process.hrtime.bigint() - t0) / 1e9;
      farmCpuSeconds = machineCpuSeconds() - cpu0;
      if (run.code !== 0) throw new Error(`farm submit failed (${String(run.code)}):\n${run.stderr.slice(-4000)}`);
      records = await listBuilds(farm.grpc);
    } finally {
      await farm.stop();
    }

    const nix = realise(dir, roots, []);
    const nixSandboxed = realise(dir, sandboxedRoots, ['--option', 'sandbox', 'true', '--option', 'sandbox-paths', SANDBOX_PATHS]);

    const latencies = records.map((r) => Number(r.assignedMs) - Number(r.readyMs)).filter((x) => Number.isFinite(x) && x >= 0);
    return {
      derivations,
      farmSeconds,
      nixSeconds: nix.seconds,
      ratio: farmSeconds / nix.seconds,
      nixSandboxedSeconds: nixSandboxed.seconds,
      ratioSandboxed: farmSeconds / nixSandboxed.seconds,
      farmCpuSeconds,
      nixCpuSeconds: nix.cpuSeconds,
      nixSandboxedCpuSeconds: nixSandboxed.cpuSeconds,
      builds: records.length,
      dispatchP50Ms: percentile(latencies, 50),
      dispatchP99Ms: percentile(latencies, 99),
      cpus: cpus().length,
      command: `npm run bench:farm -- --layers ${options.layers} --width ${options.width}`,
    };
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

const HEADER = [
  `| derivations | farm (\`farm up\`, 2 agents × 1 job) | Nix, \`sandbox = false\` | ratio | Nix, sandboxed | ratio | ready→assigned p50 | p99 | builds recorded | machine CPU per derivation: farm / Nix / sandboxed Nix |`,
  `|---|---|---|---|---|---|---|---|---|---|`,
];

const perDrv = (cpuSeconds: number, r: FarmBenchResult) => ((cpuSeconds * 1000) / r.derivations).toFixed(1);

function row(r: FarmBenchResult): string {
  return (
    `| ${r.derivations} | ${r.farmSeconds.toFixed(2)} s | ${r.nixSeconds.toFixed(2)} s | ${r.ratio.toFixed(2)} | ${r.nixSandboxedSeconds.toFixed(2)} s | ${r.ratioSandboxed.toFixed(2)} ` +
    `| ${r.dispatchP50Ms.toFixed(1)} ms | ${r.dispatchP99Ms.toFixed(1)} ms | ${r.builds} | ${perDrv(r.farmCpuSeconds, r)} / ${perDrv(r.nixCpuSeconds, r)} / ${perDrv(r.nixSandboxedCpuSeconds, r)} ms |`
  );
}

export function formatFarmBench(r: FarmBenchResult): string {
  return formatFarmBenchRuns([r]);
}


/**
 * Several runs, one row each, and the median ratios: this benchmark runs on shared machines whose
 * speed drifts by tens of percent between runs, and each run measures all three side by side.
 */
export function formatFarmBenchRuns(runs: readonly FarmBenchResult[]): string {
  const lines = [...HEADER, ...runs.map(row)];
  if (runs.length > 1) {
    lines.push('', `Median of ${runs.length} runs: farm / Nix ${median(runs.map((r) => r.ratio)).toFixed(2)}, farm / sandboxed Nix ${median(runs.map((r) => r.ratioSandboxed)).toFixed(2)}.`);
  }
  lines.push('', `${runs[0]?.cpus ?? 0} CPUs.`);
  return lines.join('\n');
}

/** `--name N` from the command line: a whole number of at least 1, or `fallback` when absent. */
export function arg(args: string[], name: string, fallback: number): number {
  const i = args.indexOf(name);
  if (i < 0) return fallback;
  const v = Number(args[i + 1]);
  if (!Number.isInteger(v) || v < 1) throw new Error(`${name} needs a whole number`);
  return v;
}

if (process.argv[1] !== undefined && import.meta.url === new URL(`file://${process.argv[1]}`).href) {
  const args = process.argv.slice(2);
  const options = { layers: arg(args, '--layers', 25), width: arg(args, '--width', 40), agents: 2, maxJobs: 1 };
  const runs: FarmBenchResult[] = [];
  for (let i = arg(args, '--runs', 1); i > 0; i--) runs.push(await runFarmBench(options));
  const command = `npm run bench:farm -- --layers ${options.layers} --width ${options.width}${runs.length > 1 ? ` --runs ${runs.length}` : ''}`;
  process.stdout.write(args.includes('--json') ? `${JSON.stringify(runs.length === 1 ? runs[0] : runs)}\n` : `${formatFarmBenchRuns(runs)}\n\nreproduce: ${command}\n`);
}
