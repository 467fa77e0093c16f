/**
 * The Nix side of the door benchmark: the generated DAG (bench/dag/door.nix) instantiated into a
 * client chroot store, and one Nix client realising all of it with every derivation offloaded to
 * one remote of 8 slots. Commands run asynchronously, so that a `farm up` child of this process
 * keeps being served while the client runs.
 */
import { spawn } from 'node:child_process';
import { join } from 'node:path';
import { REPO_ROOT } from '@farm/testkit';

/**
 * The system feature every derivation requires: one of Nix's default `system-features`, so that
 * both remotes offer it as they are (a plain `nix-store --serve` with this machine's nix.conf,
 * and the farm's agents, which offer Nix's defaults; `farm up` has no way to give its agents
 * another), while the client is run with `--option system-features` without it.
 */
export const DOOR_BENCH_FEATURE = 'benchmark';

export interface CommandRun {
  readonly code: number | null;
  readonly stdout: string;
  readonly stderr: string;
  /** Wall time from spawn to exit. */
  readonly seconds: number;
}

export function run(cmd: string, args: readonly string[], env: NodeJS.ProcessEnv = process.env, timeoutMs = 1_800_000): Promise<CommandRun> {
  return new Promise((resolve, reject) => {
    const t0 = process.hrtime.bigint();
    const child = spawn(cmd, args, { stdio: ['ignore', 'pipe', 'pipe'], env, cwd: REPO_ROOT });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (d: Buffer) => (stdout += d.toString()));
    child.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
    const timer = setTimeout(() => child.kill('SIGKILL'), timeoutMs);
    child.once('error', (e) => {
      clearTimeout(timer);
      reject(e);
    });
    child.once('close', (code) => {
      clearTimeout(timer);
      resolve({ code, stdout, stderr, seconds: Number(process.hrtime.bigint() - t0) / 1e9 });
    });
  });
}

async function ok(cmd: string, args: readonly string[], env?: NodeJS.ProcessEnv): Promise<string> {
  const r = await run(cmd, args, env);
  if (r.code !== 0) throw new Error(`${cmd} ${args.slice(0, 6).join(' ')}… failed (${String(r.code)}):\n${r.stderr.slice(-3000)}`);
  return r.stdout;
}

const lines = (s: string): string[] => s.split('\n').filter((l) => l !== '');

export interface LocalNix {
  readonly system: string;
  /** This machine's `system-features` (what the plain remote, `nix-store --serve`, offers). */
  readonly features: readonly string[];
}

/** What this machine's Nix is; fails unless it offers the benchmark's feature. */
export async function localNix(): Promise<LocalNix> {
  const config = await ok('nix', ['--extra-experimental-features', 'nix-command', 'show-config']);
  const value = (name: string): string => config.split('\n').find((l) => l.startsWith(`${name} = `))?.slice(name.length + 3).trim() ?? '';
  const features = value('system-features').split(/\s+/).filter((f) => f !== '');
  if (!features.includes(DOOR_BENCH_FEATURE)) {
    throw new Error(`this machine's Nix does not offer the system feature '${DOOR_BENCH_FEATURE}' (system-features = ${features.join(' ')}); the plain remote could not build the DAG`);
  }
  return { system: value('system'), features };
}

export interface DagShape {
  readonly layers: number;
  readonly width: number;
}

/** The DAG's `.drv` paths (all layers), instantiated into the chroot store `store`. */
export async function instantiateDag(store: string, nonce: string, shape: DagShape): Promise<string[]> {
  const expr = join(REPO_ROOT, 'bench', 'dag', 'door.nix');
  const out = await ok('nix-instantiate', ['--store', store, expr, '-A', 'all', '--argstr', 'nonce', nonce, '--arg', 'layers', String(shape.layers), '--arg', 'width', String(shape.width), '--argstr', 'feature', DOOR_BENCH_FEATURE]);
  return lines(out);
}

export async function outputsOf(store: string, drvs: readonly string[]): Promise<string[]> {
  return lines(await ok('nix-store', ['--store', store, '-q', '--outputs', ...drvs]));
}

/** True if every path is valid in `store` (undefined: this machine's /nix/store). */
export async function allValid(paths: readonly string[], store?: string): Promise<boolean> {
  const r = await run('nix-store', [...(store !== undefined ? ['--store', store] : []), '--check-validity', ...paths]);
  return r.code === 0;
}

export interface ClientRun {
  readonly seconds: number;
  /** Derivations the client says it built on a remote ("building '…' on '<uri>'"). */
  readonly offloaded: number;
  /** Derivations it built itself ("building '…'..." without a machine). */
  readonly builtLocally: number;
  readonly stderr: string;
}

/**
 * `nix-store --realise` of `drvs` in `store` with `--max-jobs 8`, no substituters, one remote
 * (`uri`, 8 slots, offering the benchmark's feature) and local system-features without it.
 */
export async function realiseOffloaded(store: string, drvs: readonly string[], uri: string, local: LocalNix, env: NodeJS.ProcessEnv): Promise<ClientRun> {
  const localFeatures = local.features.filter((f) => f !== DOOR_BENCH_FEATURE).join(' ');
  const r = await run(
    'nix-store',
    ['--store', store, '--realise', ...drvs, '--max-jobs', '8', '--option', 'substituters', '', '--option', 'system-features', localFeatures, '--builders', `${uri} ${local.system} - 8 1 ${DOOR_BENCH_FEATURE}`],
    env,
  );
  if (r.code !== 0) throw new Error(`the Nix client failed (${String(r.code)}) offloading to ${uri}:\n${r.stderr.slice(-4000)}`);
  const building = lines(r.stderr).filter((l) => l.startsWith('building '));
  const offloaded = building.filter((l) => / on '[a-z-]+:\/\//.test(l)).length;
  return { seconds: r.seconds, offloaded, builtLocally: building.length - offloaded, stderr: r.stderr };
}
