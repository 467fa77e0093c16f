/**
 * NAR dump + sha256 benchmark: ours (in-process `hashPath`, and the whole `farm nar hash`
 * command) against `nix-store --dump PATH | sha256sum`, on a large-file tree and a
 * many-small-files tree. Runs alternate (nix, ours, cli, nix, …) so drift affects all equally;
 * medians and ratios ours/nix are reported (≤ 1.0 means we are at least as fast).
 *
 *   npm run bench:nar -- [--large-mib 1024] [--small-count 100000] [--reps 5] [--dir DIR] [--json]
 */
import { spawnSync } from 'node:child_process';
import { cpus, tmpdir, totalmem } from 'node:os';
import { join, resolve, dirname } from 'node:path';
import { fileURLToPath } from 'node:url';
import { hashPath } from '@farm/nix';
import { largeTree, smallTree } from './trees.js';

export interface NarBenchOptions {
  readonly largeMiB: number;
  readonly smallCount: number;
  readonly reps: number;
  readonly dir: string;
}

export interface NarBenchCase {
  readonly name: string;
  readonly path: string;
  readonly narSize: number;
  readonly narHash: string;
  readonly nixSeconds: number[];
  readonly oursSeconds: number[];
  readonly cliSeconds: number[];
  readonly nixMedian: number;
  readonly oursMedian: number;
  readonly cliMedian: number;
  /** ours (in-process) / nix, by median. */
  readonly ratioOurs: number;
  /** farm nar hash (whole command) / nix, by median. */
  readonly ratioCli: number;
  /** The three tools agreed on the hash in every run. */
  readonly hashesAgree: boolean;
}

const here = dirname(fileURLToPath(import.meta.url));
const FARM_BIN = resolve(here, '..', '..', '..', 'cli', 'bin', 'farm');

function median(xs: number[]): number {
  const s = [...xs].sort((a, b) => a - b);
  const m = Math.floor(s.length / 2);
  return s.length % 2 === 1 ? s[m]! : (s[m - 1]! + s[m]!) / 2;
}

function timed<T>(fn: () => T): [T, number] {
  const t = process.hrtime.bigint();
  const r = fn();
  return [r, Number(process.hrtime.bigint() - t) / 1e9];
}

function sh(cmd: string, args: string[]): string {
  const r = spawnSync(cmd, args, { encoding: 'utf8', maxBuffer: 1 << 20 });
  if (r.error !== undefined || r.status !== 0) throw new Error(`${cmd} ${args.join(' ')} failed: ${String(r.error ?? r.stderr)}`);
  return r.stdout;
}

export function benchTree(name: string, path: string, reps: number): NarBenchCase {
  const nixSeconds: number[] = [];
  const oursSeconds: number[] = [];
  const cliSeconds: number[] = [];
  let agree = true;
  let narHash = '';
  let narSize = 0;
  for (let i = 0; i < reps; i++) {
    const [nixOut, tn] = timed(() => sh('sh', ['-c', 'nix-store --dump "$1" | sha256sum', 'sh', path]));
    const [ours, to] = timed(() => hashPath(path));
    const [cliOut, tc] = timed(() => sh(FARM_BIN, ['nar', 'hash', path]));
    nixSeconds.push(tn);
    oursSeconds.push(to);
    cliSeconds.push(tc);
    narHash = ours.narHash.toPrefixed('nix32');
    narSize = ours.narSize;
    agree &&= nixOut.split(' ')[0] === ours.narHash.encode('base16') && cliOut.trim() === `${narHash} ${narSize}`;
  }
  const nixMedian = median(nixSeconds);
  const oursMedian = median(oursSeconds);
  const cliMedian = median(cliSeconds);
  return {
    name,
    path,
    narSize,
    narHash,
    nixSeconds,
    oursSeconds,
    cliSeconds,
    nixMedian,
    oursMedian,
    cliMedian,
    ratioOurs: oursMedian / nixMedian,
    ratioCli: cliMedian / nixMedian,
    hashesAgree: agree,
  };
}

export function runNarBench(o: NarBenchOptions): NarBenchCase[] {
  const cases: NarBenchCase[] = [];
  if (o.largeMiB > 0) cases.push(benchTree(`large files (${o.largeMiB} MiB)`, largeTree(join(o.dir, `large-${o.largeMiB}`), o.largeMiB), o.reps));
  if (o.smallCount > 0) cases.push(benchTree(`small files (${o.smallCount})`, smallTree(join(o.dir, `small-${o.smallCount}`), o.smallCount), o.reps));
  return cases;
}

export function formatTable(cases: readonly NarBenchCase[]): string {
  const f = (x: number) => x.toFixed(3);
  const rows = [
    '| tree | NAR size | nix-store --dump \\| sha256sum (s) | ours in-process (s) | farm nar hash (s) | ours/nix | cli/nix | hashes agree |',
    '|---|---:|---:|---:|---:|---:|---:|---|',
  ];
  for (const c of cases) {
    rows.push(`| ${c.name} | ${c.narSize} | ${f(c.nixMedian)} | ${f(c.oursMedian)} | ${f(c.cliMedian)} | ${c.ratioOurs.toFixed(2)} | ${c.ratioCli.toFixed(2)} | ${c.hashesAgree ? 'yes' : 'NO'} |`);
  }
  return rows.join('\n');
}

function parseArgs(argv: string[]): NarBenchOptions & { json: boolean } {
  const opts = { largeMiB: 1024, smallCount: 100_000, reps: 5, dir: join(tmpdir(), 'farm-nar-bench'), json: false };
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i];
    const next = (): string => {
      const v = argv[++i];
      if (v === undefined) throw new Error(`${a} needs a value`);
      return v;
    };
    if (a === '--large-mib') opts.largeMiB = Number(next());
    else if (a === '--small-count') opts.smallCount = Number(next());
    else if (a === '--reps') opts.reps = Number(next());
    else if (a === '--dir') opts.dir = next();
    else if (a === '--json') opts.json = true;
    else throw new Error(`unknown option ${a} (options: --large-mib N --small-count N --reps N --dir DIR --json)`);
  }
  return opts;
}

if (process.argv[1] !== undefined && resolve(process.argv[1]) === fileURLToPath(import.meta.url)) {
  const opts = parseArgs(process.argv.slice(2));
  const cases = runNarBench(opts);
  const machine = `${cpus().length} × ${cpus()[0]?.model ?? 'cpu'}, ${(totalmem() / 2 ** 30).toFixed(0)} GiB RAM, Node ${process.version}`;
  if (opts.json) process.stdout.write(`${JSON.stringify({ machine, reps: opts.reps, cases }, null, 2)}\n`);
  else process.stdout.write(`${machine}, ${opts.reps} reps (medians)\n${formatTable(cases)}\n`);
}
