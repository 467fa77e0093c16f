/**
 * The door benchmark's result as Markdown: one row per run (sides side by side, ratios
 * plain / farm), the checks, and the breakdown of the profiled pass (one column per side).
 */
import type { DoorBenchResult, DoorSide, DoorSideProfile, DoorSideRun } from './door-types.js';
import { median, type Stat } from './door-profile.js';

const TITLE: Record<DoorSide, string> = {
  'farm-ssh-ng': 'farm, `ssh-ng://`',
  'farm-ssh': 'farm, `ssh://`',
  plain: 'plain Nix, `ssh://`',
};

const s2 = (x: number | undefined): string => (x === undefined || !Number.isFinite(x) ? '–' : `${x.toFixed(2)} s`);
const ms = (x: number): string => (Number.isFinite(x) ? `${x.toFixed(x < 10 ? 1 : 0)} ms` : '–');
const totalAndMedian = (st: Stat): string => `${(st.totalMs / 1000).toFixed(2)} s / ${ms(st.medianMs)}`;

function ratios(r: DoorBenchResult, row: readonly DoorSideRun[]): string[] {
  const secs = (side: DoorSide): number | undefined => row.find((x) => x.side === side)?.seconds;
  const plain = secs('plain');
  const out: string[] = [];
  for (const farm of ['farm-ssh-ng', 'farm-ssh'] as const) {
    if (plain === undefined || !r.runs[0]?.some((x) => x.side === farm)) continue;
    out.push((plain / secs(farm)!).toFixed(2));
  }
  return out;
}

function ratioHeads(sides: readonly DoorSide[]): string[] {
  if (!sides.includes('plain')) return [];
  return sides.filter((s) => s !== 'plain').map((s) => `plain / ${s === 'farm-ssh-ng' ? 'farm ssh-ng' : 'farm ssh'}`);
}

export function formatDoorRuns(r: DoorBenchResult): string {
  const sides = (r.runs[0] ?? []).map((x) => x.side).sort((a, b) => ORDER.indexOf(a) - ORDER.indexOf(b));
  const lines = [
    `| run | order | ${sides.map((s) => TITLE[s]).join(' | ')} | ${ratioHeads(sides).join(' | ')} |`,
    `|---|---|${sides.map(() => '---:|').join('')}${ratioHeads(sides).map(() => '---:|').join('')}`,
  ];
  r.runs.forEach((row, i) => {
    const cell = (side: DoorSide): string => s2(row.find((x) => x.side === side)?.seconds);
    lines.push(`| ${i + 1} | ${row.map((x) => x.side).join(', ')} | ${sides.map(cell).join(' | ')} | ${ratios(r, row).join(' | ')} |`);
  });
  const medianRatios = [r.ratioSshNg, r.ratioSsh].filter((x): x is number => x !== undefined).map((x) => `**${x.toFixed(2)}**`);
  lines.push(`| median | | ${sides.map((s) => `**${s2(r.medians[s])}**`).join(' | ')} | ${medianRatios.join(' | ')} |`);
  const all = r.runs.flat();
  const ok = all.every((x) => x.offloaded === x.derivations && x.builtLocally === 0 && x.builtByRemote === x.derivations && x.validInClient === x.derivations);
  lines.push(
    '',
    ok
      ? `Checked in every run and side: ${r.derivations}/${r.derivations} derivations offloaded (the client's log), 0 built by the client, ${r.derivations}/${r.derivations} built by the remote (farm: its build records; plain: the outputs valid in /nix/store), ${r.derivations}/${r.derivations} outputs valid in the client's store.`
      : 'Some side did not offload, build or return every derivation: see the JSON output.',
  );
  const cpu = sides.map((s) => `${TITLE[s]} ${((median(all.filter((x) => x.side === s).map((x) => x.cpuSeconds)) * 1000) / r.derivations).toFixed(1)} ms`);
  lines.push(`Machine CPU per derivation (median over runs, all processes): ${cpu.join(', ')}.`);
  for (const [side, f] of Object.entries(r.farmBuilds)) {
    lines.push(`Farm build records (${TITLE[side as DoorSide]}, all runs): ${f.builds} builds, ready→assigned median ${ms(f.queue.medianMs)}, assigned→finished median ${ms(f.agent.medianMs)} (agent time in all ${(f.agent.totalMs / 1000).toFixed(1)} s).`);
  }
  return lines.join('\n');
}

const ORDER: readonly DoorSide[] = ['farm-ssh-ng', 'farm-ssh', 'plain'];

export function formatDoorProfiles(profiles: readonly DoorSideProfile[]): string {
  if (profiles.length === 0) return '';
  const ps = [...profiles].sort((a, b) => ORDER.indexOf(a.side) - ORDER.indexOf(b.side));
  const row = (label: string, f: (p: DoorSideProfile) => string): string => `| ${label} | ${ps.map(f).join(' | ')} |`;
  const farmRow = (label: string, f: (x: NonNullable<DoorSideProfile['farm']>) => string): string => row(label, (p) => (p.farm === undefined ? '–' : f(p.farm)));
  return [
    `| profiled run (total / median per session) | ${ps.map((p) => TITLE[p.side]).join(' | ')} |`,
    `|---|${ps.map(() => '---:|').join('')}`,
    row('wall of the profiled run', (p) => s2(p.seconds)),
    row('remote sessions', (p) => String(p.sessions)),
    row('session: remote program started → client EOF', (p) => totalAndMedian(p.session)),
    row('· start-up: program started → handshake answered', (p) => totalAndMedian(p.startup)),
    row('· QueryValidPaths', (p) => totalAndMedian(p.query)),
    row('· copy in (uploads of inputs)', (p) => totalAndMedian(p.copyIn)),
    row('· build: BuildDerivation → its reply', (p) => totalAndMedian(p.build)),
    row('· copy out (path infos + NARs)', (p) => totalAndMedian(p.copyOut)),
    row('· waiting for the client between commands', (p) => totalAndMedian(p.clientWait)),
    farmRow('build: BuildDerivation → job ready (door, submit)', (f) => totalAndMedian(f.doorBefore)),
    farmRow('build: ready → assigned (queue for 2 slots)', (f) => totalAndMedian(f.queue)),
    farmRow('build: assigned → result applied (agent)', (f) => totalAndMedian(f.agent)),
    farmRow('build: result applied → reply sent (door)', (f) => totalAndMedian(f.doorAfter)),
    row('serial path: accept → next session starts (client)', (p) => totalAndMedian(p.clientGap)),
    row('serial path: relay start-up (profiling only)', (p) => totalAndMedian(p.relayOverhead)),
    row('interval between session starts', (p) => totalAndMedian(p.startInterval)),
    row('serial path without the relay: Σ (client gap + start-up)', (p) => s2((p.clientGap.totalMs + p.startup.totalMs) / 1000)),
    row('Σ sessions / 8 slots', (p) => s2(p.session.totalMs / 8000)),
    row('client overhead: wall − Σ sessions / 8', (p) => s2(p.seconds - p.session.totalMs / 8000)),
    row('mean sessions in flight (Σ sessions / wall)', (p) => (p.session.totalMs / 1000 / p.seconds).toFixed(2)),
  ].join('\n');
}

export function formatDoorBench(r: DoorBenchResult): string {
  const parts = [`${r.derivations} derivations (${r.layers} layers × ${r.width}), ${r.runs.length} run(s), ${r.cpus} × ${r.cpuModel}.`, '', formatDoorRuns(r)];
  const profiles = formatDoorProfiles(r.profiles);
  if (profiles !== '') parts.push('', profiles);
  parts.push('', `reproduce: ${r.command}`);
  return parts.join('\n');
}
