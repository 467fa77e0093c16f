/**
 * A DAG shaped from a real package graph: Debian's binary packages and their dependencies, read
 * from apt's `Packages` indices in /var/lib/apt/lists (issue 4's "one DAG shaped from a real
 * package graph, cycles broken"). The shape (fan-in, depth, hubs like libc6) is real; the
 * durations are a proxy (see `debianDurationMs`), since Debian publishes no build times here.
 */
import { execFileSync } from 'node:child_process';
import { readdirSync, readFileSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { gunzipSync } from 'node:zlib';
import { FarmError } from '@farm/common';
import { mulberry32, simDrvPath, validateDag, type SimDag, type SimJob } from './dags.js';
import { parseDebianPackages, type DebianPackage } from './debian-packages.js';

export { parseDebianPackages, parseRelations, type DebianPackage } from './debian-packages.js';

export const DEFAULT_APT_LISTS_DIR = '/var/lib/apt/lists';
const APT_HELPER = '/usr/lib/apt/apt-helper';
const PACKAGES_FILE = /_Packages(\.[A-Za-z0-9]+)?$/;

export interface DebianDagOptions {
  /** Orders the packages whose closures fill `maxJobs`; default 1. Unused without `maxJobs`. */
  readonly seed?: number;
  /** Keep at most this many packages (a dependency-closed subset); default all. */
  readonly maxJobs?: number;
}

/** Reads the machine's apt lists (or `listsDir`) and builds the package DAG. */
export function debianDag(options: DebianDagOptions & { readonly listsDir?: string } = {}): SimDag {
  const dir = options.listsDir ?? DEFAULT_APT_LISTS_DIR;
  const packages = readDebianPackageLists(dir);
  if (packages.length === 0) throw new FarmError('FAILED_PRECONDITION', `the Debian Packages indices in ${dir} list no packages`);
  return debianDagFromPackages(packages, options);
}

/**
 * Every stanza of every `*_Packages[.ext]` file in `dir`, files in sorted name order. apt-helper
 * decompresses whatever apt stored (lz4 on this machine, gz/xz elsewhere); without it, plain and
 * gzip files are still read.
 */
export function readDebianPackageLists(dir: string): DebianPackage[] {
  let names: string[];
  try {
    names = readdirSync(dir).filter((n) => PACKAGES_FILE.test(n)).sort();
  } catch (e) {
    throw new FarmError('FAILED_PRECONDITION', `cannot list the apt lists directory ${dir}: ${(e as Error).message}`, {}, { cause: e });
  }
  const files = names.map((n) => join(dir, n)).filter((f) => statSync(f).isFile());
  if (files.length === 0) {
    throw new FarmError('FAILED_PRECONDITION', `no Debian Packages index (*_Packages, *_Packages.lz4, …) in ${dir}: run \`apt-get update\` first`);
  }
  return files.flatMap((f) => parseDebianPackages(readPackagesFile(f)));
}

function readPackagesFile(file: string): string {
  try {
    return execFileSync(APT_HELPER, ['cat-file', file], { encoding: 'utf8', maxBuffer: 1 << 30, stdio: ['ignore', 'pipe', 'pipe'] });
  } catch (e) {
    const err = e as NodeJS.ErrnoException & { stderr?: string };
    if (err.code !== 'ENOENT') {
      throw new FarmError('FAILED_PRECONDITION', `${APT_HELPER} cat-file ${file} failed: ${String(err.stderr ?? err.message).trim()}`, {}, { cause: e });
    }
  }
  if (file.endsWith('_Packages')) return readFileSync(file, 'utf8');
  if (file.endsWith('.gz')) return gunzipSync(readFileSync(file)).toString('utf8');
  throw new FarmError('FAILED_PRECONDITION', `cannot decompress ${file}: ${APT_HELPER} is missing`);
}

/**
 * Proxy build time from `Installed-Size`: 2 s + 10 ms per KiB, capped at 1 h (a 200 KiB library
 * → 4 s, a 30 MiB program → ~5 min, a 3 GiB data package → 1 h). Bigger packages do take longer
 * to build, but only roughly; the benchmark needs plausible, skewed durations, not true ones.
 */
export function debianDurationMs(installedSizeKiB: number): number {
  return Math.min(3_600_000, 2000 + 10 * installedSizeKiB);
}

/** Nix's name rule puts the version at the first '-' not followed by a letter: such dashes → '_'. */
export function debianStoreName(name: string): string {
  return name.replace(/[^A-Za-z0-9+._?=-]/g, '_').replace(/-(?![A-Za-z])/g, '_');
}

/** `1:2.3~rc1-4` → `2.3_rc1-4`: epoch dropped, store-illegal characters → '_', starts with a digit. */
export function debianStoreVersion(version: string): string {
  const v = version.replace(/^\d+:/, '').replace(/[^A-Za-z0-9+._?=-]/g, '_');
  return /^[0-9]/.test(v) ? v : `0${v}`;
}

/**
 * The DAG of `packages` (pure):
 * - duplicates by name: the first stanza wins (readDebianPackageLists returns files in sorted
 *   order, where `…-security_…` and `…-updates_…` lists sort before the release's own);
 * - an edge per dependency group, to its first alternative that is a real package (a name with a
 *   stanza; virtual packages and packages of other archives are dropped), self-edges dropped;
 * - cycles (Debian has some, e.g. libc6 ↔ libgcc-s1) broken by `breakCycles`: the back edges
 *   of one depth-first search in name order are dropped — only edges inside an SCC, and only
 *   as many as that search needs;
 * - with `maxJobs`: packages are visited in a seeded shuffle, and each one's whole dependency
 *   closure is added if it still fits in `maxJobs` (else skipped), so the subset is
 *   dependency-closed — a sample of real packages with everything they need, like a real
 *   build — and holds at most `maxJobs` jobs;
 * - job order: that search's post-order (dependencies first).
 */
export function debianDagFromPackages(packages: readonly DebianPackage[], options: DebianDagOptions = {}): SimDag {
  const byName = new Map<string, DebianPackage>();
  for (const p of packages) if (!byName.has(p.name)) byName.set(p.name, p);
  const nodes = [...byName.values()].sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0));
  const indexOf = new Map(nodes.map((p, i) => [p.name, i]));

  const adjacency: number[][] = nodes.map((p, i) => {
    const out = new Set<number>();
    for (const group of p.depends) {
      for (const alt of group) {
        const j = indexOf.get(alt);
        if (j === undefined) continue;
        if (j !== i) out.add(j);
        break;
      }
    }
    return [...out];
  });

  const { kept, order } = breakCycles(adjacency);

  const selected = selectClosures(kept, options);
  const drvPaths = nodes.map((p) => {
    const name = debianStoreName(p.name);
    const room = 211 - name.length - '-'.length - '.drv'.length;
    return simDrvPath(`debian:${p.name}:${p.version}`, name, debianStoreVersion(p.version).slice(0, Math.max(1, room)));
  });
  const jobs: SimJob[] = [];
  const used = new Set<number>();
  for (const i of order) {
    if (selected !== undefined && selected[i] !== 1) continue;
    const inputs = kept[i]!;
    for (const j of inputs) used.add(j);
    jobs.push({
      drvPath: drvPaths[i]!,
      system: 'x86_64-linux',
      requiredFeatures: [],
      inputDrvs: inputs.map((j) => drvPaths[j]!),
      durationMs: debianDurationMs(nodes[i]!.installedSizeKiB),
    });
  }
  const roots = order.filter((i) => (selected === undefined || selected[i] === 1) && !used.has(i)).map((i) => drvPaths[i]!);
  const dag: SimDag = { name: `debian-n${jobs.length}`, jobs, roots };
  validateDag(dag);
  return dag;
}

/** The dependency-closed subset for `maxJobs` (1 = kept), or undefined for "all". */
function selectClosures(kept: readonly (readonly number[])[], options: DebianDagOptions): Uint8Array | undefined {
  const { maxJobs } = options;
  if (maxJobs === undefined || maxJobs >= kept.length) return undefined;
  if (!Number.isSafeInteger(maxJobs) || maxJobs < 1) throw new FarmError('INVALID_ARGUMENT', `debianDag: maxJobs must be a positive integer, got ${maxJobs}`);
  const seed = options.seed ?? 1;
  if (!Number.isSafeInteger(seed)) throw new FarmError('INVALID_ARGUMENT', `debianDag: seed must be an integer, got ${seed}`);

  const n = kept.length;
  const candidates = Array.from({ length: n }, (_, i) => i);
  const rand = mulberry32(seed);
  for (let i = n - 1; i > 0; i--) {
    const j = Math.floor(rand() * (i + 1));
    [candidates[i], candidates[j]] = [candidates[j]!, candidates[i]!];
  }
  const selected = new Uint8Array(n);
  const stamp = new Int32Array(n); // which candidate's walk last visited a node
  let left = maxJobs;
  for (let c = 0; c < n && left > 0; c++) {
    const start = candidates[c]!;
    if (selected[start] === 1) continue;
    // Walk the unselected part of the closure, giving up as soon as it cannot fit.
    const closure: number[] = [];
    const todo = [start];
    stamp[start] = c + 1;
    while (todo.length > 0 && closure.length <= left) {
      const v = todo.pop()!;
      closure.push(v);
      for (const w of kept[v]!) {
        if (selected[w] === 1 || stamp[w] === c + 1) continue;
        stamp[w] = c + 1;
        todo.push(w);
      }
    }
    if (todo.length > 0 || closure.length > left) continue;
    for (const v of closure) selected[v] = 1;
    left -= closure.length;
  }
  return selected;
}

export interface BrokenCycles {
  /** Per node, its dependencies minus the dropped back edges: acyclic. */
  readonly kept: number[][];
  /** Every node, dependencies first (the DFS post-order). */
  readonly order: number[];
  /** Strongly connected components with more than one node, each sorted. */
  readonly cycles: number[][];
  readonly droppedEdges: number;
}

/**
 * Breaks every cycle deterministically with one depth-first search (Tarjan's SCC walk, roots in
 * node order, edges in dependency order): an edge is dropped iff it is a back edge of that
 * search, i.e. it leads to a node still on the search path. Back edges only occur inside a
 * strongly connected component, every cycle contains one, and without them the same search
 * sees only tree, forward and cross edges — so the rest is a DAG and the search's post-order is
 * a topological order of it. A 3-cycle a→b→c→a searched from a loses only c→a.
 * Iterative: the graph has ~60,000 nodes and long chains, recursion would overflow the stack.
 */
export function breakCycles(adjacency: readonly (readonly number[])[]): BrokenCycles {
  const n = adjacency.length;
  const index = new Int32Array(n).fill(-1);
  const low = new Int32Array(n);
  const onStack = new Uint8Array(n); // on Tarjan's component stack
  const onPath = new Uint8Array(n); // on the search path (grey)
  const next = new Int32Array(n); // next edge to look at, per node on the path
  const kept: number[][] = adjacency.map(() => []);
  const order: number[] = [];
  const cycles: number[][] = [];
  const stack: number[] = [];
  const path: number[] = [];
  let counter = 0;
  let droppedEdges = 0;
  const visit = (v: number) => {
    index[v] = low[v] = counter++;
    stack.push(v);
    onStack[v] = 1;
    onPath[v] = 1;
    path.push(v);
  };
  for (let root = 0; root < n; root++) {
    if (index[root] !== -1) continue;
    visit(root);
    while (path.length > 0) {
      const v = path[path.length - 1]!;
      const edges = adjacency[v]!;
      if (next[v]! < edges.length) {
        const w = edges[next[v]!++]!;
        if (onPath[w] === 1) droppedEdges++;
        else kept[v]!.push(w);
        if (index[w] === -1) visit(w);
        else if (onStack[w] === 1) low[v] = Math.min(low[v]!, index[w]!);
        continue;
      }
      path.pop();
      onPath[v] = 0;
      order.push(v);
      const parent = path[path.length - 1];
      if (parent !== undefined) low[parent] = Math.min(low[parent]!, low[v]!);
      if (low[v] === index[v]) {
        const members: number[] = [];
        let w: number;
        do {
          w = stack.pop()!;
          onStack[w] = 0;
          members.push(w);
        } while (w !== v);
        if (members.length > 1) cycles.push(members.sort((a, b) => a - b));
      }
    }
  }
  return { kept, order, cycles, droppedEdges };
}
