/**
 * Throughput benchmark: a generated DAG of trivial derivations (bench/dag/default.nix, default
 * 25 layers × 40 = 1,000) built from scratch by the farm (`farm up` with two agents of one job
 * each, `farm submit` of the instantiated roots: upload + schedule + sandboxed builds + output
 * upload) and by `nix-store --realise --max-jobs 2` (sandbox off, as Nix runs on these
 * machines), in one run. Both start from the same instantiated `.drv` files; a fresh salt per
 * run makes every derivation new to both stores. Also reports the farm's ready→assigned
 * dispatch latency (p50/p99) from the coordinator's own build records (ListBuilds).
 *
 *   npm run bench:farm -- [--layers 25] [--width 40] [--json]
 */
import { spawnSync } from 'node:child_process';
import { mkdtempSync, readlinkSync, rmSync } from 'node:fs';
import { cpus, tmpdir } from 'node:os';
import { join } from 'node:path';
import { createCoordinatorClient, type BuildRecord__Output } from '@farm/proto';
import { REPO_ROOT, runFarm, startFarmUp } from '@farm/testkit';

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
  readonly builds: number;
  readonly dispatchP50Ms: number;
  readonly dispatchP99Ms: number;
  readonly cpus: number;
  readonly command: string;
}

function sh(cmd: string, args: readonly string[]): string {
  const r = spawnSync(cmd, args, { encoding: 'utf8', maxBuffer: 64 << 20, cwd: REPO_ROOT });
  if (r.error !== undefined || r.status !== 0) throw new Error(`${cmd} ${args.join(' ')} failed: ${String(r.error ?? r.stderr)}`);
  return r.stdout;
}

function percentile(xs: readonly number[], p: number): number {
  if (xs.length === 0) return Number.NaN;
  const s = [...xs].sort((a, b) => a - b);
  return s[Math.min(s.length - 1, Math.max(0, Math.ceil((p / 100) * s.length) - 1))]!;
}

function listBuilds(address: string): Promise<BuildRecord__Output[]> {
  const client = createCoordinatorClient(address);
  return new Promise<BuildRecord__Output[]>((resolve, reject) =>
    client.ListBuilds({}, (err, reply) => {
      client.close();
      if (err || reply === undefined) reject(err ?? new Error('no reply'));
      else resolve(reply.builds);
    }),
  );
}

export async function runFarmBench(options: FarmBenchOptions): Promise<FarmBenchResult> {
  const dir = mkdtempSync(join(tmpdir(), 'farm-bench-'));
  try {
    const salt = `${Date.now()}-${process.pid}`;
    const expr = join(REPO_ROOT, 'bench', 'dag', 'default.nix');
    const common = ['--argstr', 'salt', salt, '--arg', 'layers', String(options.layers), '--arg', 'width', String(options.width)];
    // --add-root keeps the .drv files (and later the outputs) from the garbage collector.
    const roots = sh('nix-instantiate', [expr, '-A', 'top', ...common, '--add-root', join(dir, 'drv'), '--indirect'])
      .split('\n')
      .filter((l) => l !== '')
      .map((l) => readlinkSync(l));
    const derivations = options.layers * options.width;

    const farm = await startFarmUp({ stateDir: join(dir, 'farm'), args: ['--agents', String(options.agents), '--max-jobs', String(options.maxJobs)] });
    let farmSeconds: number;
    let records: BuildRecord__Output[];
    try {
      const t0 = process.hrtime.bigint();
      const run = await runFarm(['submit', '--coordinator', farm.grpc, ...roots], { timeoutMs: 3_600_000 });
      farmSeconds = Number(process.hrtime.bigint() - t0) / 1e9;
      if (run.code !== 0) throw new Error(`farm submit failed (${String(run.code)}):\n${run.stderr.slice(-4000)}`);
      records = await listBuilds(farm.grpc);
    } finally {
      await farm.stop();
    }

    const t1 = process.hrtime.bigint();
    sh('nix-store', ['--realise', ...roots, '--max-jobs', '2', '--option', 'substituters', '', '--add-root', join(dir, 'out'), '--indirect']);
    const nixSeconds = Number(process.hrtime.bigint() - t1) / 1e9;

    const latencies = records.map((r) => Number(r.assignedMs) - Number(r.readyMs)).filter((x) => Number.isFinite(x) && x >= 0);
    return {
      derivations,
      farmSeconds,
      nixSeconds,
      ratio: farmSeconds / nixSeconds,
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

export function formatFarmBench(r: FarmBenchResult): string {
  return [
    `| derivations | farm (\`farm up\`, 2 agents × 1 job) | \`nix-store --realise --max-jobs 2\` | ratio farm / nix | builds recorded | ready→assigned p50 | p99 |`,
    `|---|---|---|---|---|---|---|`,
    `| ${r.derivations} | ${r.farmSeconds.toFixed(2)} s | ${r.nixSeconds.toFixed(2)} s | ${r.ratio.toFixed(2)} | ${r.builds} | ${r.dispatchP50Ms.toFixed(1)} ms | ${r.dispatchP99Ms.toFixed(1)} ms |`,
  ].join('\n');
}

function arg(args: string[], name: string, fallback: number): number {
  const i = args.indexOf(name);
  if (i < 0) return fallback;
  const v = Number(args[i + 1]);
  if (!Number.isInteger(v) || v < 1) throw new Error(`${name} needs a whole number`);
  return v;
}

if (process.argv[1] !== undefined && import.meta.url === new URL(`file://${process.argv[1]}`).href) {
  const args = process.argv.slice(2);
  const result = await runFarmBench({ layers: arg(args, '--layers', 25), width: arg(args, '--width', 40), agents: 2, maxJobs: 1 });
  process.stdout.write(args.includes('--json') ? `${JSON.stringify(result)}\n` : `${formatFarmBench(result)}\n\nreproduce: ${result.command}\n`);
}
