/**
 * Nix 2.8's own machine choices (shared/vectors/client-runs) replayed through our rule: for
 * every recorded run we parse the `--builders` string it used, derive the derivation's system
 * and required features, and check that chooseMachine picks the machine Nix printed ("building
 * … on '<uri>'", "copying dependencies to '<uri>'", …) or declines where Nix said "Failed to find
 * a machine for remote build!" — in which case our message must equal Nix's line for line.
 * All runs used --max-jobs 0, so the client could never build locally.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { chooseMachine, formatNoMachineMessage, parseMachines, type BuildNeeds, type MachineChoice } from '../src/index.js';
import { readVectorText } from './vectors.js';

const THIS_SYSTEM = 'x86_64-linux'; // the capture machine (features-*.out: "I am a 'x86_64-linux'")
const PROXY = '$VEC/cap/proxy';

/** capture.nix attributes → requiredSystemFeatures (read from the Nix expression itself). */
function requiredFeaturesOf(attr: string): string[] {
  const nix = readVectorText('nix/capture.nix');
  const def = nix.split('\n').find((l) => new RegExp(`^\\s*${attr} = mk `).test(l));
  assert.ok(def, `capture.nix defines ${attr}`);
  const m = /requiredSystemFeatures = \[([^\]]*)\]/.exec(def);
  return m ? [...m[1]!.matchAll(/"([^"]+)"/g)].map((x) => x[1]!) : [];
}

function decide(builders: string, needs: BuildNeeds): MachineChoice {
  const machines = parseMachines(builders, { thisSystem: THIS_SYSTEM });
  return chooseMachine(machines.map((machine) => ({ machine, load: 0 })), needs, false);
}

/** The store URI Nix used for the build, from any of the lines it prints about it. */
function uriNixUsed(output: string): string | undefined {
  const m = /(?:building '[^']+' on|copying dependencies to|waiting for the upload lock to|connecting to|copying outputs from) '([^']+)'/.exec(output);
  return m?.[1];
}

function failureBlock(output: string): string | undefined {
  const lines = output.split('\n');
  const start = lines.indexOf('Failed to find a machine for remote build!');
  if (start < 0) return undefined;
  const end = lines.findIndex((l, i) => i > start && l.startsWith('error: '));
  return lines.slice(start, end).join('\n');
}

interface Experiment {
  label: string;
  attr: string;
  builders: string;
  exit: number;
}

function experiments(): Experiment[] {
  const text = readVectorText('client-runs/features.txt');
  const out: Experiment[] = [];
  for (const block of text.split('### ').slice(1)) {
    const head = /^([A-Z]): attr=(\w+) builders='([^']*)'\nexit=(\d+)/.exec(block);
    assert.ok(head, `features.txt block: ${block.slice(0, 60)}`);
    out.push({ label: head[1]!, attr: head[2]!, builders: head[3]!, exit: Number(head[4]) });
  }
  return out;
}

test('features.txt lists experiments A–F, each with its features-X.out', () => {
  assert.deepEqual(experiments().map((e) => e.label), ['A', 'B', 'C', 'D', 'E', 'F']);
  assert.deepEqual(requiredFeaturesOf('feat'), ['farm-special', 'big-parallel']);
  assert.deepEqual(requiredFeaturesOf('a'), []);
  assert.deepEqual(requiredFeaturesOf('plocal'), []);
});

const featureRunFiles: Record<string, string> = {
  A: 'client-runs/features-A.out',
  B: 'client-runs/features-B.out',
  C: 'client-runs/features-C.out',
  D: 'client-runs/features-D.out',
  E: 'client-runs/features-E.out',
  F: 'client-runs/features-F.out',
};

// What Nix did, read from features-X.out (the assertions below re-derive it from the file).
const expectedOutcome: Record<string, string> = {
  A: 'accept ssh://localhost?remote-program=$VEC/cap/proxy', // supported covers both features
  B: 'decline', // only big-parallel supported
  C: 'decline', // mandatory farm-special not asked for
  D: 'accept ssh://localhost?remote-program=$VEC/cap/proxy', // supported ∪ mandatory covers both
  E: 'accept ssh://localhost?remote-program=$VEC/cap/proxy', // preferLocalBuild still offloaded with max-jobs 0
  F: 'accept ssh://localhost?remote-program=$VEC/cap/proxy&x=2', // the machine listing x86_64-linux
};

for (const e of experiments()) {
  test(`features experiment ${e.label} (${e.attr}): our rule chooses what Nix 2.8 chose`, () => {
    const output = readVectorText(featureRunFiles[e.label]!);
    const usedUri = uriNixUsed(output);
    const failure = failureBlock(output);
    const nixOutcome = usedUri !== undefined ? `accept ${usedUri}` : failure !== undefined ? 'decline' : 'unknown';
    assert.equal(nixOutcome, expectedOutcome[e.label], 'the recorded outcome is the one documented');
    assert.ok(e.builders.includes(PROXY));

    const needs = { system: THIS_SYSTEM, requiredFeatures: requiredFeaturesOf(e.attr) };
    const ours = decide(e.builders, needs);
    assert.equal(ours.kind === 'accept' ? `accept ${ours.machine.storeUri}` : ours.kind, nixOutcome);
    // The run's exit status: accepted A/D failed on the remote (it lacks farm-special), E/F built.
    assert.equal(e.exit, e.label === 'E' || e.label === 'F' ? 0 : 1);

    if (failure !== undefined) {
      const drv = /^\s+\/nix\/store\/(\S+\.drv)$/m.exec(output)![1]!;
      const machines = parseMachines(e.builders, { thisSystem: THIS_SYSTEM });
      assert.equal(formatNoMachineMessage(drv, needs.system, needs.requiredFeatures, machines), failure);
    }
  });
}

/** Sections of summary.txt that carry a --builders string: `### tag: nix-store --realise DRV … --builders 'SPEC'`. */
test('summary.txt: every offload run went to the machine our rule picks, for the system Nix reported', () => {
  const summary = readVectorText('client-runs/summary.txt');
  const sections = summary.split(/^### /m).slice(1);
  let checked = 0;
  for (const s of sections) {
    const head = /^([\w-]+): nix-store --realise (\S+) --max-jobs 0 --builders '([^']+)'\nexit=(\d+)/.exec(s);
    if (!head) continue;
    const [, tag, , builders] = head as unknown as [string, string, string, string];
    // The aarch64 runs say which system was required in the remote's refusal.
    const system = /a '([\w-]+)' with features \{\} is required/.exec(s)?.[1] ?? THIS_SYSTEM;
    assert.equal(system, tag.includes('aarch64') ? 'aarch64-linux' : THIS_SYSTEM, tag);
    const used = uriNixUsed(s);
    assert.ok(used, `${tag}: Nix printed the machine it used`);
    const ours = decide(builders, { system, requiredFeatures: [] });
    assert.equal(ours.kind === 'accept' ? ours.machine.storeUri : ours.kind, used, tag);
    // The same request for the other system is declined: the routing really depends on the system.
    const other = decide(builders, { system: system === THIS_SYSTEM ? 'aarch64-linux' : THIS_SYSTEM, requiredFeatures: [] });
    assert.equal(other.kind, 'decline', tag);
    checked++;
  }
  assert.equal(checked, 8, 'serve/ng offload, fail, fakessh and aarch64 runs');
});

/** run_captures.sh holds the builders strings of the runs whose summary section does not repeat them. */
function buildersFromRunCaptures(marker: string): string {
  const script = readVectorText('tools/run_captures.sh');
  const line = script.split('\n').find((l, i, all) => l.includes('--builders') && all.slice(Math.max(0, i - 3), i + 3).some((x) => x.includes(marker)));
  assert.ok(line, `run_captures.sh has the ${marker} run`);
  const m = /--builders (?:'([^']+)'|"([^"]+)")/.exec(line);
  assert.ok(m, line);
  return (m[1] ?? m[2]!).replace('$PROXY', PROXY);
}

test('plain-localhost.out: `ssh://localhost x86_64-linux` is chosen and used verbatim', () => {
  const builders = buildersFromRunCaptures('plain-localhost.out');
  assert.equal(builders, 'ssh://localhost x86_64-linux');
  const out = readVectorText('client-runs/plain-localhost.out');
  const ours = decide(builders, { system: THIS_SYSTEM, requiredFeatures: [] });
  assert.equal(ours.kind === 'accept' ? ours.machine.storeUri : ours.kind, uriNixUsed(out));
  assert.match(out, /^connecting to 'ssh:\/\/localhost'\.\.\.$/m);
  assert.match(out, /^copying path '\/nix\/store\/\w{32}-src-p\d+\.txt' to 'ssh:\/\/localhost'\.\.\.$/m);
  assert.match(out, /^\/nix\/store\/\w{32}-cap-a-p\d+$/m, 'the output path is printed at the end');
  assert.match(readVectorText('client-runs/summary.txt'), /### plain ssh:\/\/localhost \(remote-program defaults to nix-store\)\nexit=0\n/);
});

test('nixbuild.out: nix-build offloads through the same rule', () => {
  const builders = buildersFromRunCaptures('nixbuild.out');
  assert.equal(builders, `ssh://localhost?remote-program=${PROXY} x86_64-linux`);
  const out = readVectorText('client-runs/nixbuild.out');
  const ours = decide(builders, { system: THIS_SYSTEM, requiredFeatures: [] });
  assert.equal(ours.kind === 'accept' ? ours.machine.storeUri : ours.kind, uriNixUsed(out));
  assert.equal(uriNixUsed(out), `ssh://localhost?remote-program=${PROXY}`);
  assert.match(out, /^building a$/m, 'the remote builder log reaches the client');
  assert.match(readVectorText('client-runs/summary.txt'), /### nix-build --max-jobs 0 --builders ssh:\/\/localhost\?remote-program=\.\.\.\nexit=0\n/);
});

test('summary.txt: nix copy runs and scripted sessions all exited 0', () => {
  const summary = readVectorText('client-runs/summary.txt');
  const copies = [...summary.matchAll(/### nix copy --(to|from) (ssh-ng|ssh):\/\/[^\n]*\n((?:.*\n)*?)(?=###|RUN=)/g)];
  assert.equal(copies.length, 4);
  for (const c of copies) {
    assert.match(c[3]!, /exit=0/, c[0].split('\n')[0]);
    assert.match(c[3]!, /^copying \d+ paths\.\.\.$/m);
  }
  assert.match(summary, /### scripted sessions\nexit=0\n/);
});

/** The full client output of each offload run in summary.txt (which keeps only its tail). */
const offloadRunFiles: Record<string, string> = {
  'serve-offload': 'client-runs/serve-offload.out',
  'ng-offload': 'client-runs/ng-offload.out',
  'serve-offload-fail': 'client-runs/serve-offload-fail.out',
  'ng-offload-fail': 'client-runs/ng-offload-fail.out',
  'fakessh-serve-offload': 'client-runs/fakessh-serve-offload.out',
  'fakessh-ng-offload': 'client-runs/fakessh-ng-offload.out',
  'serve-offload-aarch64': 'client-runs/serve-offload-aarch64.out',
  'ng-offload-aarch64': 'client-runs/ng-offload-aarch64.out',
};

test('each offload run output names only the machine our rule picks, and ends as summary.txt recorded', () => {
  const summary = readVectorText('client-runs/summary.txt');
  for (const [tag, file] of Object.entries(offloadRunFiles)) {
    const section = summary.split(/^### /m).find((s) => s.startsWith(`${tag}: `));
    assert.ok(section, tag);
    const builders = /--builders '([^']+)'/.exec(section)![1]!;
    const system = tag.includes('aarch64') ? 'aarch64-linux' : THIS_SYSTEM;
    const ours = decide(builders, { system, requiredFeatures: [] });
    assert.equal(ours.kind, 'accept', tag);
    const out = readVectorText(file);
    const uris = [...out.matchAll(/(?:building '[^']+' on|copying dependencies to|waiting for the upload lock to|connecting to|copying outputs from) '([^']+)'/g)].map((m) => m[1]);
    assert.ok(uris.length > 0, tag);
    for (const u of uris) assert.equal(u, ours.kind === 'accept' ? ours.machine.storeUri : '', `${tag}: ${u}`);
    // summary.txt holds `tail -n 12` of the run output (after the exit line).
    const tail = section.split('\n').slice(2).join('\n').trim();
    assert.ok(out.trimEnd().endsWith(tail), `${tag}: summary tail is the end of ${file}`);
  }
});

test('fakefarm.txt: a spec-only toy server got x86_64 and aarch64 offloads over both protocols via our rule', () => {
  const text = readVectorText('client-runs/fakefarm.txt');
  const script = readVectorText('tools/regenerate.sh');
  const spec = /--builders "(\$proto:\/\/localhost\?remote-program=\$VEC\/fakefarm\.py [^"]+)"/.exec(script);
  assert.ok(spec, 'regenerate.sh runs the toy server with one builders line per protocol');
  const blocks = text.split(/^=== /m).slice(1);
  assert.equal(blocks.length, 4);
  for (const b of blocks) {
    const [, proto, system] = /^(ssh|ssh-ng) (\S+) \/nix\/store\/\S+\.drv\n/.exec(b)!;
    const builders = spec[1]!.replace('$proto', proto!);
    const ours = decide(builders, { system: system!, requiredFeatures: [] });
    assert.equal(ours.kind === 'accept' ? ours.machine.storeUri : ours.kind, `${proto}://localhost?remote-program=$VEC/fakefarm.py`);
    assert.match(b, /^exit=0$/m, `${proto} ${system}`);
    assert.equal((b.match(/\| valid=yes$/gm) ?? []).length, 2, 'both outputs of cap-b became valid in the client store');
    assert.ok(b.includes(`built`) && b.includes(`on ${system}|`), `the toy server built for ${system}`);
  }
});
