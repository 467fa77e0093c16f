/**
 * Cross-compilation end to end (issue 5), as users run it: `farm up` on this x86_64 host starts an
 * aarch64-linux agent beside the native one (qemu-user, here forced to the explicit
 * `qemu-aarch64-static` way so the test does not depend on binfmt_misc), and
 * `cd examples/cross && farm submit .#pkgsCross.aarch64` (and `.#pkgsCross.musl64`, `.#all`)
 * builds with Debian's cross toolchains through the sandbox paths. Checked from the bytes the
 * farm store serves (ELF headers, running the programs), from the coordinator's build records
 * (which agent built what), and against the real Nix building the same derivations.
 */
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync, spawn } from 'node:child_process';
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { Hash } from '@farm/nix';
import { ensureAarch64Binfmt, FARM_BIN, killTree, REPO_ROOT, runFarm, type FarmUp, type TempDir } from '@farm/testkit';
import { eventually, FarmClient, startFarmFixture, stopFarmFixture } from '../src/index.js';

const CROSS = join(REPO_ROOT, 'examples', 'cross');
const EM_AARCH64 = 183;
const EM_X86_64 = 62;
const PT_INTERP = 3;

let dir: TempDir;
let farm: FarmUp;
let client: FarmClient;
const env = (): NodeJS.ProcessEnv => ({ FARM_STATE_DIR: farm.stateDir, FARM_COORDINATOR: '' });

function sh(cmd: string, args: readonly string[], options: { input?: Buffer } = {}): string {
  return execFileSync(cmd, args, { encoding: 'utf8', maxBuffer: 64 << 20, cwd: REPO_ROOT, stdio: ['pipe', 'pipe', 'pipe'], ...options });
}

function lines(s: string): string[] {
  return s.split('\n').filter((l) => l !== '');
}

/** Instantiates an attribute of examples/cross/default.nix (GC roots in the test dir). */
function instantiate(attr: string): string[] {
  const root = join(dir.path, `gc-${Math.random().toString(36).slice(2)}`);
  return lines(sh('nix-instantiate', [join(CROSS, 'default.nix'), '-A', attr, '--add-root', root, '--indirect'])).map((l) => sh('readlink', ['-f', l]).trim());
}

function outputOf(drv: string): string {
  return lines(sh('nix-store', ['-q', '--outputs', drv]))[0]!;
}

/** Unpacks what the farm store holds at `path` into the test dir; returns where. */
async function fromFarm(path: string): Promise<string> {
  const dest = join(dir.path, 'unpacked', path.slice('/nix/store/'.length));
  mkdirSync(join(dir.path, 'unpacked'), { recursive: true });
  sh(FARM_BIN, ['nar', 'unpack', dest], { input: await client.nar(path) });
  return dest;
}

/** e_machine, and whether the file asks for a program interpreter (dynamic linking), from its ELF headers. */
function elfInfo(file: string): { machine: number; dynamic: boolean } {
  const b = readFileSync(file);
  assert.deepEqual([...b.subarray(0, 4)], [0x7f, 0x45, 0x4c, 0x46], `${file} is an ELF file`);
  assert.equal(b[4], 2, `${file} is ELFCLASS64`);
  assert.equal(b[5], 1, `${file} is little-endian`);
  const machine = b.readUInt16LE(18);
  const phoff = Number(b.readBigUInt64LE(32));
  const phentsize = b.readUInt16LE(54);
  const phnum = b.readUInt16LE(56);
  let dynamic = false;
  for (let i = 0; i < phnum; i++) if (b.readUInt32LE(phoff + i * phentsize) === PT_INTERP) dynamic = true;
  return { machine, dynamic };
}

async function submitIn(installable: string): Promise<string> {
  const run = await runFarm(['submit', installable], { env: env(), cwd: CROSS });
  assert.equal(run.code, 0, `farm submit ${installable} failed:\n${run.stderr.slice(-4000)}`);
  return run.stdout;
}

before(async () => ({ dir, farm, client } = await startFarmFixture('farm-cross-', ['--agents', '1', '--max-jobs', '2', '--emulation', 'qemu'])));

after(() => stopFarmFixture({ dir, farm, client }));

test('farm up on x86_64 with qemu starts an aarch64-linux agent beside the native one, and farm agents says how it runs', async () => {
  const aarch64 = farm.agents.filter((a) => a.endsWith('-aarch64'));
  assert.equal(aarch64.length, 1, `agents: ${farm.agents.join(', ')}`);
  const run = await runFarm(['agents', '--json'], { env: env() });
  assert.equal(run.code, 0, run.stderr);
  const agents = (JSON.parse(run.stdout) as { agents: { agentId: string; capabilities: { systems: string[]; supportedFeatures: string[]; emulated: Record<string, string> } }[] }).agents;
  const emulated = agents.find((a) => a.agentId === aarch64[0]);
  assert.deepEqual(emulated?.capabilities.systems, ['aarch64-linux']);
  assert.match(emulated?.capabilities.emulated['aarch64-linux'] ?? '', /^qemu \(\/.*\/qemu-aarch64-static\)$/);
  const native = agents.find((a) => a.agentId !== aarch64[0]);
  assert.deepEqual(native?.capabilities.systems, ['x86_64-linux'], 'the native agent leaves aarch64-linux to the emulated one');
  for (const f of ['cross-aarch64', 'musl']) assert.ok(native?.capabilities.supportedFeatures.includes(f), `the native agent offers ${f} (the toolchain is installed)`);
  const table = await runFarm(['agents'], { env: env() });
  assert.match(table.stdout, /aarch64-linux \(qemu\)/);
});

test('cd examples/cross && farm submit .#pkgsCross.aarch64: aarch64 ELF programs that print their text under qemu', async () => {
  const stdout = await submitIn('.#pkgsCross.aarch64');
  for (const [attr, text] of [
    ['hello', 'hello from aarch64\n'],
    ['greeter', 'greetings, aarch64\n'],
  ] as const) {
    const out = outputOf(instantiate(`pkgsCross.aarch64.${attr}`)[0]!);
    assert.ok(stdout.includes(out), `farm submit names ${out}`);
    const bin = join(await fromFarm(out), 'bin', attr);
    assert.equal(elfInfo(bin).machine, EM_AARCH64, `${attr} is an aarch64 executable`);
    assert.equal(sh('qemu-aarch64-static', [bin]), text);
  }
  const lib = await fromFarm(outputOf(instantiate('pkgsCross.aarch64.libgreet')[0]!));
  assert.equal(readFileSync(join(lib, 'lib', 'libgreet.a')).subarray(0, 8).toString('latin1'), '!<arch>\n', 'libgreet.a is an ar archive');
});

test('farm submit .#pkgsCross.musl64: static musl x86_64 programs that run on the host', async () => {
  await submitIn('.#pkgsCross.musl64');
  for (const [attr, text] of [
    ['hello', 'hello from musl\n'],
    ['greeter', 'greetings, musl\n'],
  ] as const) {
    const bin = join(await fromFarm(outputOf(instantiate(`pkgsCross.musl64.${attr}`)[0]!)), 'bin', attr);
    assert.deepEqual(elfInfo(bin), { machine: EM_X86_64, dynamic: false }, `${attr} is a static x86_64 executable`);
    assert.equal(sh(bin, []), text);
  }
});

test('farm submit .#all: the DAG crosses x86_64 → aarch64 → x86_64; aarch64-linux derivations ran on the emulated agent only', async () => {
  await submitIn('.#all');
  const emulatedAgent = farm.agents.find((a) => a.endsWith('-aarch64'))!;
  const roots = instantiate('all');
  const drvs = lines(sh('nix-store', ['-qR', ...roots])).filter((p) => p.endsWith('.drv'));
  const builds = await client.builds();
  let aarch64Jobs = 0;
  for (const drv of drvs) {
    const system = JSON.parse(sh('nix', ['--extra-experimental-features', 'nix-command', 'show-derivation', drv]))[drv].system as string;
    const mine = builds.filter((b) => b.drvPath === drv);
    assert.ok(mine.length >= 1, `${drv} was built`);
    for (const b of mine) {
      if (system === 'aarch64-linux') assert.equal(b.agentId, emulatedAgent, `${drv} (aarch64-linux) ran on the emulated agent`);
      else assert.notEqual(b.agentId, emulatedAgent, `${drv} (${system}) never ran on the emulated agent`);
    }
    if (system === 'aarch64-linux') aarch64Jobs++;
  }
  assert.ok(aarch64Jobs >= 1, 'the DAG has aarch64-linux derivations');
  const roundTrip = await fromFarm(outputOf(instantiate('roundTrip')[0]!));
  assert.match(readFileSync(roundTrip, 'utf8'), /built by an aarch64 builder/);
});

test('the real Nix builds the same derivations to the same output paths and NAR hashes', async () => {
  // Nix runs an aarch64 builder only through binfmt_misc (it just execs the builder).
  ensureAarch64Binfmt();
  const roots = instantiate('all');
  const drvs = lines(sh('nix-store', ['-qR', ...roots])).filter((p) => p.endsWith('.drv'));
  const outputs = drvs.flatMap((d) => lines(sh('nix-store', ['-q', '--outputs', d])));
  assert.deepEqual(await client.missing(outputs), [], 'the farm holds every output path of the closure');
  sh('nix-store', [
    '--realise',
    ...roots,
    '--option', 'substituters', '',
    '--option', 'extra-platforms', 'aarch64-linux',
    '--option', 'system-features', 'nixos-test benchmark big-parallel cross-aarch64 musl',
    '--add-root', join(dir.path, 'nix-out'), '--indirect',
  ]);
  const differing: string[] = [];
  for (const out of outputs) {
    const nixHash = Hash.parse(sh('nix-store', ['-q', '--hash', out]).trim()).encode('base16');
    if ((await client.narSha256Hex(out)) !== nixHash) differing.push(out.replace(/^\/nix\/store\/[0-9a-z]{32}-/, ''));
  }
  // Every build of the example is deterministic (no -g, deterministic archives, no timestamps);
  // a name here would need a reason in examples/cross/README.md.
  assert.deepEqual(differing, []);
});

test('a derivation requiring a feature no agent offers waits, naming the feature; an agent offering it completes it', async () => {
  const file = join(dir.path, 'feature.nix');
  writeFileSync(
    file,
    `derivation { name = "needs-feature"; system = "x86_64-linux"; builder = "/bin/sh"; args = [ "-c" "echo built > $out" ]; salt = "${Date.now()}"; requiredSystemFeatures = [ "farm-test-toolchain" ]; }`,
  );
  const run = await runFarm(['submit', '--no-wait', '--json', '-f', file], { env: env() });
  assert.equal(run.code, 0, run.stderr);
  const sub = lines(run.stdout).map((l) => JSON.parse(l) as { type?: string; submissionId?: string }).find((e) => e.type === 'submitted')!.submissionId!;
  const waiting = (await client.status(sub)).jobs[0];
  assert.equal(waiting?.state, 'JOB_STATE_READY');
  assert.match(waiting?.reason ?? '', /waiting for capacity.*farm-test-toolchain/);
  const config = join(dir.path, 'feature-agent.json');
  writeFileSync(
    config,
    JSON.stringify({ name: 'toolchain-test', stateDir: join(dir.path, 'feature-agent'), coordinator: farm.grpc, nats: { servers: [farm.nats] }, supportedFeatures: ['farm-test-toolchain'], emulation: 'off', maxJobs: 1, sandboxPaths: ['/bin', '/usr', '/lib', '/lib64?'] }),
  );
  const agent = spawn(FARM_BIN, ['agent', '--config', config], { stdio: 'ignore', detached: true });
  try {
    await eventually(async () => {
      const s = (await client.status(sub)).jobs[0];
      assert.equal(s?.state, 'JOB_STATE_SUCCEEDED');
      assert.equal(s?.agentId, 'toolchain-test');
    }, 60_000, 200);
  } finally {
    killTree(agent);
  }
});
