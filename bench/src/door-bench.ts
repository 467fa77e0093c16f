/**
 * The Nix-door benchmark (issue 6): the same DAG of small derivations (bench/dag/door.nix,
 * default 5 layers × 40 = 200) offloaded by one Nix client (`nix-store --realise --max-jobs 8`
 * into a fresh chroot store, every derivation requiring a feature the client lacks, so all of
 * them go to the one remote of 8 slots) to each side, sides interleaved within a run:
 *
 *   farm-ssh-ng  `ssh-ng://localhost?remote-program=cli/bin/farm-nix-stdio` → a `farm up` (default agents, --emulation off)
 *   farm-ssh     `ssh://localhost?remote-program=cli/bin/farm-nix-stdio`    → the same farm, serve protocol
 *   plain        `ssh://localhost`: Nix runs `nix-store --serve --write` on this machine (real /nix/store, nix.conf)
 *
 * Each run checks that all derivations were offloaded (the client's log), built by the remote
 * (the farm's build records; outputs valid in /nix/store for plain Nix) and are valid in the
 * client's store. Then, unless --no-profile, one profiled run per side puts the byte-timing relay
 * (door-relay.ts) in front of the remote program to say where the time goes (door-profile.ts).
 *
 *   npm run bench:door -- [--runs 3] [--layers 5] [--width 40] [--sides farm-ssh-ng,farm-ssh,plain] [--no-profile]
 *                         [--farm-program PATH] [--json]
 */
import { chmodSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { cpus, tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { createCoordinatorClient, type BuildRecord__Output } from '@farm/proto';
import { REPO_ROOT, startFarmUp, type FarmUp } from '@farm/testkit';
import { allValid, instantiateDag, localNix, outputsOf, realiseOffloaded, run, type DagShape, type LocalNix } from './door-nix.js';
import { buildCommands, median, parseRelayLog, profileSessions, stat } from './door-profile.js';
import { formatDoorBench } from './door-report.js';
import { DOOR_SIDES, type DoorBenchOptions, type DoorBenchResult, type DoorSide, type DoorSideProfile, type DoorSideRun, type FarmBuildStats } from './door-types.js';

const FARM_RELAY = join(REPO_ROOT, 'cli', 'bin', 'farm-nix-stdio');
const PROFILE_RELAY = fileURLToPath(new URL('./door-relay.js', import.meta.url));

/** The builders URI of a side; `program` replaces its remote program (the profiling wrapper). */
export function doorUri(side: DoorSide, program?: string, farmProgram = FARM_RELAY): string {
  const scheme = side === 'farm-ssh-ng' ? 'ssh-ng' : 'ssh';
  const remote = program ?? (side === 'plain' ? undefined : farmProgram);
  return remote === undefined ? `${scheme}://localhost` : `${scheme}://localhost?remote-program=${remote}`;
}

/** The machine's busy CPU time so far, in seconds (/proc/stat, clock ticks of 1/100 s). */
function machineCpuSeconds(): number {
  const f = readFileSync('/proc/stat', 'utf8').split('\n')[0]!.trim().split(/\s+/).map(Number);
  const [, user, nice, system, , , irq, softirq, steal] = f;
  return ((user ?? 0) + (nice ?? 0) + (system ?? 0) + (irq ?? 0) + (softirq ?? 0) + (steal ?? 0)) / 100;
}

function listBuilds(address: string): Promise<BuildRecord__Output[]> {
  const client = createCoordinatorClient(address);
  return new Promise((resolve, reject) =>
    client.ListBuilds({}, (err, reply) => {
      client.close();
      if (err || reply === undefined) reject(err ?? new Error('no reply'));
      else resolve(reply.builds);
    }),
  );
}

function farmStats(records: readonly BuildRecord__Output[]): FarmBuildStats {
  const built = records.filter((r) => r.status === 'built');
  return {
    builds: built.length,
    queue: stat(built.map((r) => Number(r.assignedMs) - Number(r.readyMs))),
    agent: stat(built.map((r) => Number(r.finishedMs) - Number(r.assignedMs))),
  };
}

interface Context {
  readonly dir: string;
  readonly nonce: string;
  readonly shape: DagShape;
  readonly local: LocalNix;
  readonly farm: FarmUp | undefined;
  readonly env: NodeJS.ProcessEnv;
  readonly farmProgram: string;
}

interface SideOutcome {
  readonly run: DoorSideRun;
  readonly records: BuildRecord__Output[];
}

async function runSide(ctx: Context, side: DoorSide, label: string, program?: string): Promise<SideOutcome> {
  const store = join(ctx.dir, `client-${label}-${side}`);
  const drvs = await instantiateDag(store, `${ctx.nonce}-${label}-${side}`, ctx.shape);
  const outputs = await outputsOf(store, drvs);
  const cpu0 = machineCpuSeconds();
  const client = await realiseOffloaded(store, drvs, doorUri(side, program, ctx.farmProgram), ctx.local, ctx.env);
  const cpuSeconds = machineCpuSeconds() - cpu0;
  const invalidIn = async (s?: string): Promise<number> => {
    const r = await run('nix-store', [...(s !== undefined ? ['--store', s] : []), '--check-validity', '--print-invalid', ...outputs]);
    return r.stdout.split('\n').filter((l) => l !== '').length;
  };
  let records: BuildRecord__Output[] = [];
  let builtByRemote: number;
  if (side === 'plain') builtByRemote = drvs.length - (await invalidIn());
  else {
    const wanted = new Set(drvs);
    records = (await listBuilds(ctx.farm!.grpc)).filter((r) => wanted.has(r.drvPath));
    builtByRemote = new Set(records.filter((r) => r.status === 'built').map((r) => r.drvPath)).size;
  }
  const validInClient = (await allValid(outputs, store)) ? outputs.length : outputs.length - (await invalidIn(store));
  const result: DoorSideRun = { side, seconds: client.seconds, derivations: drvs.length, offloaded: client.offloaded, builtLocally: client.builtLocally, builtByRemote, validInClient, cpuSeconds };
  if (client.offloaded !== drvs.length || client.builtLocally !== 0 || builtByRemote !== drvs.length || validInClient !== outputs.length) {
    throw new Error(`${side} (${label}): not every derivation was offloaded, built by the remote and returned: ${JSON.stringify(result)}`);
  }
  rmSync(store, { recursive: true, force: true });
  return { run: result, records };
}

/** A remote-program that runs `program` behind the byte-timing relay, logging to `log`. */
function profilingProgram(ctx: Context, side: DoorSide, log: string): string {
  const dir = ctx.dir;
  const real = side === 'plain' ? 'nix-store' : ctx.farmProgram;
  const path = join(dir, `remote-${side}`);
  const q = (s: string): string => `'${s.replace(/'/g, `'\\''`)}'`;
  writeFileSync(path, `#!/bin/sh\nexec ${q(process.execPath)} ${q(PROFILE_RELAY)} ${q(log)} ${q(real)} "$@"\n`);
  chmodSync(path, 0o755);
  return path;
}

async function profileSide(ctx: Context, side: DoorSide): Promise<DoorSideProfile> {
  const log = join(ctx.dir, `relay-${side}.log`);
  writeFileSync(log, '');
  const { run: r, records } = await runSide(ctx, side, 'profile', profilingProgram(ctx, side, log));
  const sessions = parseRelayLog(readFileSync(log, 'utf8'));
  const profile: DoorSideProfile = { side, seconds: r.seconds, ...profileSessions(sessions) };
  if (side === 'plain') return profile;
  const commands = buildCommands(sessions);
  const before: number[] = [];
  const after: number[] = [];
  for (const rec of records) {
    const c = commands.get(rec.drvPath);
    if (c === undefined || rec.status !== 'built') continue;
    before.push(Number(rec.readyMs) - c.startMs);
    after.push(c.endMs - Number(rec.finishedMs));
  }
  return { ...profile, farm: { ...farmStats(records), doorBefore: stat(before), doorAfter: stat(after) } };
}

export async function runDoorBench(options: DoorBenchOptions): Promise<DoorBenchResult> {
  const dir = mkdtempSync(join(tmpdir(), 'farm-door-bench-'));
  let farm: FarmUp | undefined;
  try {
    const local = await localNix();
    const needsFarm = [...options.sides, ...options.profile].some((s) => s !== 'plain');
    if (needsFarm) farm = await startFarmUp({ stateDir: join(dir, 'farm'), args: ['--emulation', 'off'] });
    // farm-nix-stdio finds the farm by FARM_STATE_DIR's address.json; FARM_COORDINATOR would send it through the gRPC CLI.
    const env: NodeJS.ProcessEnv = { ...process.env, ...(farm !== undefined ? { FARM_STATE_DIR: farm.stateDir } : {}), FARM_COORDINATOR: '' };
    const ctx: Context = { dir, nonce: `${Date.now()}-${process.pid}`, shape: options, local, farm, env, farmProgram: options.farmProgram ?? FARM_RELAY };
    const runs: DoorSideRun[][] = [];
    const records = new Map<DoorSide, BuildRecord__Output[]>();
    for (let i = 0; i < options.runs; i++) {
      // Interleaved: each run starts with another side.
      const order = options.sides.map((_, k) => options.sides[(k + i) % options.sides.length]!);
      const row: DoorSideRun[] = [];
      for (const side of order) {
        const o = await runSide(ctx, side, `run${i + 1}`);
        row.push(o.run);
        records.set(side, [...(records.get(side) ?? []), ...o.records]);
      }
      runs.push(row);
    }
    const profiles: DoorSideProfile[] = [];
    for (const side of options.profile) profiles.push(await profileSide(ctx, side));

    const medians: Partial<Record<DoorSide, number>> = {};
    for (const side of options.sides) medians[side] = median(runs.map((row) => row.find((r) => r.side === side)!.seconds));
    const farmBuilds: Partial<Record<DoorSide, FarmBuildStats>> = {};
    for (const [side, recs] of records) if (side !== 'plain') farmBuilds[side] = farmStats(recs);
    const plain = medians.plain;
    return {
      derivations: options.layers * options.width,
      layers: options.layers,
      width: options.width,
      runs,
      medians,
      ...(plain !== undefined && medians['farm-ssh'] !== undefined ? { ratioSsh: plain / medians['farm-ssh'] } : {}),
      ...(plain !== undefined && medians['farm-ssh-ng'] !== undefined ? { ratioSshNg: plain / medians['farm-ssh-ng'] } : {}),
      farmBuilds,
      profiles,
      cpus: cpus().length,
      cpuModel: cpus()[0]?.model ?? 'unknown',
      command: doorBenchCommand(options),
    };
  } finally {
    await farm?.stop();
    // Chroot stores hold read-only directories.
    await run('chmod', ['-R', 'u+w', dir]).catch(() => undefined);
    rmSync(dir, { recursive: true, force: true });
  }
}

export function doorBenchCommand(o: DoorBenchOptions): string {
  const parts = ['npm run bench:door --'];
  if (o.runs !== 3) parts.push(`--runs ${o.runs}`);
  if (o.layers !== 5) parts.push(`--layers ${o.layers}`);
  if (o.width !== 40) parts.push(`--width ${o.width}`);
  if (o.sides.join(',') !== DOOR_SIDES.join(',')) parts.push(`--sides ${o.sides.join(',')}`);
  if (o.profile.length === 0) parts.push('--no-profile');
  if (o.farmProgram !== undefined) parts.push(`--farm-program ${o.farmProgram}`);
  return parts.length === 1 ? 'npm run bench:door' : parts.join(' ');
}

function parseArgs(args: readonly string[]): DoorBenchOptions {
  const num = (name: string, fallback: number): number => {
    const i = args.indexOf(name);
    if (i < 0) return fallback;
    const v = Number(args[i + 1]);
    if (!Number.isInteger(v) || v < 1) throw new Error(`${name} needs a whole number ≥ 1`);
    return v;
  };
  const i = args.indexOf('--sides');
  const sides = i < 0 ? [...DOOR_SIDES] : (args[i + 1] ?? '').split(',');
  for (const s of sides) if (!(DOOR_SIDES as readonly string[]).includes(s)) throw new Error(`--sides: unknown side '${s}' (known: ${DOOR_SIDES.join(', ')})`);
  const p = args.indexOf('--farm-program');
  const farmProgram = p < 0 ? undefined : args[p + 1];
  if (p >= 0 && (farmProgram === undefined || farmProgram === '')) throw new Error('--farm-program needs a path');
  return {
    runs: num('--runs', 3),
    layers: num('--layers', 5),
    width: num('--width', 40),
    sides: sides as DoorSide[],
    profile: args.includes('--no-profile') ? [] : (sides as DoorSide[]),
    ...(farmProgram !== undefined ? { farmProgram } : {}),
  };
}

if (process.argv[1] !== undefined && import.meta.url === new URL(`file://${process.argv[1]}`).href) {
  const args = process.argv.slice(2);
  const result = await runDoorBench(parseArgs(args));
  process.stdout.write(args.includes('--json') ? `${JSON.stringify(result)}\n` : `${formatDoorBench(result)}\n`);
}
