/**
 * What tracing costs (issue 7): the throughput benchmark's farm side (bench:farm — a DAG of
 * 1,000 trivial derivations, `farm up` with two agents of one job each, `farm submit` until the
 * last event) run with tracing off and on, sides interleaved within each run:
 *
 *   off       no OTEL_* variables: the SDK is never loaded, @opentelemetry/api is a no-op;
 *   on        OTEL_EXPORTER_OTLP_ENDPOINT → an in-process OTLP/HTTP sink (it accepts and counts
 *             every export request), so every process of the farm records and exports its spans;
 *   baseline  (with --baseline DIR) the same farm side from another checkout, e.g. the commit
 *             before the instrumentation: is "off" measurably slower than no tracing code at all?
 *
 * Each side builds its own freshly salted copy of the DAG, so nothing is cached.
 *
 *   npm run bench:tracing -- [--runs 3] [--layers 25] [--width 40] [--baseline DIR] [--sides off,on,baseline] [--json]
 */
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { mkdtempSync, rmSync } from 'node:fs';
import { cpus, tmpdir } from 'node:os';
import { join } from 'node:path';
import { startFarmUp, runFarm } from '@farm/testkit';
import { median } from './door-profile.js';
import { arg, instantiate, listBuilds, machineCpuSeconds, type FarmBenchOptions } from './farm-bench.js';

export type TracingSide = 'off' | 'on' | 'baseline';

export interface TracingSideRun {
  readonly side: TracingSide;
  readonly seconds: number;
  readonly cpuSeconds: number;
  readonly builds: number;
  /** OTLP export requests and bytes the sink received during this side (on only). */
  readonly exports: number;
  readonly exportBytes: number;
}

export interface TracingBenchResult {
  readonly derivations: number;
  readonly runs: readonly (readonly TracingSideRun[])[];
  readonly medians: Readonly<Partial<Record<TracingSide, number>>>;
  /** on / off wall time (the cost of recording and exporting). */
  readonly onOverOff: number;
  /** off / baseline wall time (the cost of instrumentation that is switched off); NaN without --baseline. */
  readonly offOverBaseline: number;
  readonly cpus: number;
  readonly command: string;
}

interface OtlpSink {
  readonly url: string;
  readonly counts: { requests: number; bytes: number };
  close(): Promise<void>;
}

/** Accepts any OTLP/HTTP export with 200 and an empty protobuf body; counts what arrived. */
async function startOtlpSink(): Promise<OtlpSink> {
  const counts = { requests: 0, bytes: 0 };
  const server: Server = createServer((req, res) => {
    req.on('data', (c: Buffer) => (counts.bytes += c.length));
    req.on('end', () => {
      counts.requests++;
      res.writeHead(200, { 'content-type': 'application/x-protobuf', 'content-length': 0 }).end();
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const port = (server.address() as AddressInfo).port;
  return {
    url: `http://127.0.0.1:${port}`,
    counts,
    close: () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}

async function runSide(side: TracingSide, dir: string, options: FarmBenchOptions & { baseline?: string | undefined }, sink: OtlpSink): Promise<TracingSideRun> {
  const roots = instantiate(dir, `drv-${side}`, `${Date.now()}-${process.pid}-${side}`, options);
  const bin = side === 'baseline' ? join(options.baseline!, 'cli', 'bin', 'farm') : undefined;
  // Tracing off must mean no OTEL_* at all, whatever the caller's shell has.
  const clean = Object.fromEntries(Object.entries(process.env).filter(([k]) => !k.startsWith('OTEL_')));
  const env: NodeJS.ProcessEnv = side === 'on' ? { ...clean, OTEL_EXPORTER_OTLP_ENDPOINT: sink.url, OTEL_EXPORTER_OTLP_PROTOCOL: 'http/protobuf' } : clean;
  // A fresh state dir per side and run: the farm's state does not grow from run to run.
  const farm = await startFarmUp({ stateDir: mkdtempSync(join(dir, `farm-${side}-`)), args: ['--agents', String(options.agents), '--max-jobs', String(options.maxJobs)], env, ...(bin !== undefined ? { bin } : {}) });
  const before = { ...sink.counts };
  try {
    const cpu0 = machineCpuSeconds();
    const t0 = process.hrtime.bigint();
    const run = await runFarm(['submit', '--coordinator', farm.grpc, ...roots], { timeoutMs: 3_600_000, env, ...(bin !== undefined ? { bin } : {}) });
    const seconds = Number(process.hrtime.bigint() - t0) / 1e9;
    const cpuSeconds = machineCpuSeconds() - cpu0;
    if (run.code !== 0) throw new Error(`farm submit (${side}) failed (${String(run.code)}):\n${run.stderr.slice(-4000)}`);
    const builds = (await listBuilds(farm.grpc)).length;
    await farm.stop(); // flushes the daemons' spans before the counts are read
    return { side, seconds, cpuSeconds, builds, exports: sink.counts.requests - before.requests, exportBytes: sink.counts.bytes - before.bytes };
  } finally {
    await farm.stop();
  }
}

export async function runTracingBench(options: FarmBenchOptions & { runs: number; baseline?: string | undefined; sides?: readonly TracingSide[] | undefined }): Promise<TracingBenchResult> {
  const sides: TracingSide[] = [...(options.sides ?? (options.baseline !== undefined ? ['off', 'on', 'baseline'] : ['off', 'on']))];
  if (sides.includes('baseline') && options.baseline === undefined) throw new Error('the baseline side needs --baseline DIR');
  const dir = mkdtempSync(join(tmpdir(), 'farm-tracing-bench-'));
  const sink = await startOtlpSink();
  const runs: TracingSideRun[][] = [];
  try {
    for (let i = 0; i < options.runs; i++) {
      const order = [...sides.slice(i % sides.length), ...sides.slice(0, i % sides.length)]; // rotate: no side always first
      const run: TracingSideRun[] = [];
      for (const side of order) run.push(await runSide(side, dir, options, sink));
      runs.push(run);
    }
  } finally {
    await sink.close();
    rmSync(dir, { recursive: true, force: true });
  }
  const medians: Partial<Record<TracingSide, number>> = {};
  for (const side of sides) medians[side] = median(runs.map((r) => r.find((x) => x.side === side)!.seconds));
  return {
    derivations: options.layers * options.width,
    runs,
    medians,
    onOverOff: (medians.on ?? Number.NaN) / (medians.off ?? Number.NaN),
    offOverBaseline: (medians.off ?? Number.NaN) / (medians.baseline ?? Number.NaN),
    cpus: cpus().length,
    command: `npm run bench:tracing -- --runs ${options.runs} --layers ${options.layers} --width ${options.width}${options.baseline !== undefined ? ` --baseline ${options.baseline}` : ''}${options.sides !== undefined ? ` --sides ${sides.join(',')}` : ''}`,
  };
}

const LABEL: Record<TracingSide, string> = { off: 'tracing off', on: 'tracing on (OTLP/HTTP)', baseline: 'baseline checkout' };

/** The ratio columns a result has: on / off and off / baseline, each when both its sides ran. */
function ratioColumns(sides: readonly TracingSide[]): { label: string; of: (t: (s: TracingSide) => number) => number }[] {
  const cols: { label: string; of: (t: (s: TracingSide) => number) => number }[] = [];
  if (sides.includes('on') && sides.includes('off')) cols.push({ label: 'on / off', of: (t) => t('on') / t('off') });
  if (sides.includes('off') && sides.includes('baseline')) cols.push({ label: 'off / baseline', of: (t) => t('off') / t('baseline') });
  return cols;
}

export function formatTracingBench(r: TracingBenchResult): string {
  const sides = Object.keys(r.medians) as TracingSide[];
  const cols = ratioColumns(sides);
  const lines = [
    `| run | order | ${[...sides.map((s) => LABEL[s]), ...cols.map((c) => c.label)].join(' | ')} |`,
    `|---|---|${[...sides, ...cols].map(() => '---:').join('|')}|`,
  ];
  r.runs.forEach((run, i) => {
    const t = (s: TracingSide) => run.find((x) => x.side === s)!.seconds;
    lines.push(`| ${i + 1} | ${run.map((x) => x.side).join(', ')} | ${[...sides.map((s) => `${t(s).toFixed(2)} s`), ...cols.map((c) => c.of(t).toFixed(3))].join(' | ')} |`);
  });
  const m = (s: TracingSide) => r.medians[s]!;
  lines.push(`| median | | ${[...sides.map((s) => `**${m(s).toFixed(2)} s**`), ...cols.map((c) => `**${c.of(m).toFixed(3)}**`)].join(' | ')} |`);
  const perDrv = (s: TracingSide) => (median(r.runs.map((run) => run.find((x) => x.side === s)!.cpuSeconds)) * 1000) / r.derivations;
  lines.push('', `Machine CPU per derivation (median): ${sides.map((s) => `${LABEL[s]} ${perDrv(s).toFixed(1)} ms`).join(', ')}.`);
  const on = r.runs.flatMap((run) => run.filter((x) => x.side === 'on'));
  if (on.length > 0) lines.push(`OTLP export requests received per "on" run: ${on.map((x) => `${x.exports} (${(x.exportBytes / 1024).toFixed(0)} KiB)`).join(', ')}.`);
  lines.push(`Builds recorded per side: ${r.runs.flat().map((x) => x.builds).join(', ')}.`, '', `${r.derivations} derivations, ${r.cpus} CPUs. reproduce: ${r.command}`);
  return lines.join('\n');
}

if (process.argv[1] !== undefined && import.meta.url === new URL(`file://${process.argv[1]}`).href) {
  const args = process.argv.slice(2);
  const b = args.indexOf('--baseline');
  const baseline = b >= 0 ? args[b + 1] : undefined;
  if (b >= 0 && (baseline === undefined || baseline === '')) throw new Error('--baseline needs the path of a built checkout');
  const s = args.indexOf('--sides');
  const sides = s >= 0 ? (args[s + 1] ?? '').split(',') : undefined;
  if (sides !== undefined && (sides.length === 0 || sides.some((x) => !['off', 'on', 'baseline'].includes(x)))) throw new Error('--sides takes a comma-separated list of off, on, baseline');
  const result = await runTracingBench({ layers: arg(args, '--layers', 25), width: arg(args, '--width', 40), agents: 2, maxJobs: 1, runs: arg(args, '--runs', 3), baseline, sides: sides as TracingSide[] | undefined });
  process.stdout.write(args.includes('--json') ? `${JSON.stringify(result)}\n` : `${formatTracingBench(result)}\n`);
}
