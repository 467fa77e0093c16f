/**
 * Every Nix 2.8 transcript of shared/vectors replayed against the farm's Nix door (issue 6).
 * One `farm up` (a native agent and an emulated aarch64-linux one); per transcript:
 *
 * 1. Seed: the paths Nix's server already held when the session was recorded (what it answered
 *    about before the client uploaded them or had them built in that session, see
 *    path-catalog.ts) are uploaded through the door itself, in a separate worker session
 *    (QueryValidPaths, then AddMultipleToStore of the missing ones), from the NARs and infos of
 *    the recorded answers, the store-path vectors and nix-instantiate of capture.nix.
 * 2. Replay: the client's recorded bytes go to `farm-nix-stdio` (`--serve --write` / `--stdio`,
 *    as Nix ran it) and stdin closes after them, as the recorded clients did.
 * 3. Judge: the farm's stdout is decoded request by request with the client-side decoders, as
 *    Nix's client reads it, and each answer is compared with Nix's recorded one: it must decode
 *    whole with nothing left over; valid sets, path infos, NAR bytes and closures must be equal;
 *    builds that succeeded on Nix succeed on the farm with outputs of the same NAR hash; builds
 *    that failed fail; aarch64-linux builds Nix refused are built, on the aarch64 agent; where
 *    Nix's server ended the session, the farm ends it too. The differences the test accepts are
 *    listed in ACCEPTED with the reason; every other difference is a failure that names the
 *    request, what Nix answered and what the farm answered.
 *
 * The transcripts run in the order they were captured (tools/run_captures.sh): later sessions
 * met state earlier ones left on Nix's server (serve-offload-2 found cap-a built by
 * serve-offload-1; worker-direct-session found what serve-direct-session built), and the farm
 * gets the same history. Seeding still makes each session's recorded preconditions true.
 */
import { after, before, test, type TestContext } from 'node:test';
import assert from 'node:assert/strict';
import { join } from 'node:path';
import {
  BuildStatus,
  buildStatusName,
  isBuildSuccess,
  sha256,
  type BuildResult,
  type ServeReply,
  type ServeRequest,
  type WirePathInfoFields,
  type WorkerResponse,
  type WorkerRequest,
} from '@farm/nix';
import { makeTempDir, startFarmUp, type FarmUp, type TempDir } from '@farm/testkit';
import { seedThroughDoor } from '../src/door-seeding.js';
import { runDoorSession, type DoorSessionRun } from '../src/door-session.js';
import { FarmClient } from '../src/farm-client.js';
import {
  decodeClientSession,
  decodeServeAnswers,
  decodeWorkerAnswers,
  loadTranscript,
  nixServerBytes,
  clientBytes,
  transcriptIndex,
  type ClientSession,
  type RecordedTranscript,
  type ServeAnswers,
  type WorkerAnswers,
} from '../src/nix-transcripts.js';
import { PathCatalog, preexistingPaths } from '../src/path-catalog.js';

/** Capture order (tools/run_captures.sh): offloads, fake ssh, aarch64, nix-build, copies, scripted sessions. */
const CAPTURE_ORDER = [
  'serve-offload-1',
  'serve-offload-2',
  'worker-offload-1',
  'worker-offload-2',
  'serve-offload-fail',
  'worker-offload-fail',
  'serve-offload-via-fake-ssh',
  'worker-offload-via-fake-ssh',
  'serve-offload-aarch64',
  'worker-offload-aarch64',
  'serve-offload-nix-build',
  'worker-copy-to',
  'serve-copy-to',
  'worker-copy-from',
  'serve-copy-from',
  'serve-direct-session',
  'worker-direct-session',
] as const;

/** Differences from Nix's recorded answers that are legitimate, and why. */
const ACCEPTED = {
  nixVersion: "the worker handshake's daemon version string is the farm's, not Nix's '2.8.0' (clients only print it)",
  logFraming:
    "the log messages before STDERR_LAST differ: Nix's daemon sends activities, progress results and build output as BuildLogLine results, the farm sends build output as STDERR_NEXT lines and no activities. The client only displays them (that the build output arrives is checked) and none is part of the reply",
  wording: "error and failure messages are the farm's own words (Nix's carry ANSI colours and Nix's phrasing); the client only prints them",
  buildTimes: 'startTime/stopTime are when the farm ran the build (timestamps of another run)',
  registrationTime: 'registrationTime is when the path became valid in the farm store',
  ultimate: "'ultimate' (built by this store, trusted without signatures): the farm reports its own answer; the hook imports with signature checks off, nix copy re-signs or needs --no-check-sigs either way",
  sigs: 'signatures are those the farm holds (its own key, or none), not those of the capture machine',
  drvOutputIds: 'DrvOutput ids hash the derivation as each server holds it (for the BasicDerivation a hook sends, inputDrvs are gone); only the output names and paths they realise are compared',
  repeatedFatalError: "Nix 2.8's daemon sends a fatal STDERR_ERROR twice before hanging up (a quirk, spec §7.3); the farm sends it once — the client stops reading after the first",
  aarch64: "Nix's x86_64 server could not build aarch64-linux (MiscFailure); the farm has an aarch64-linux agent and builds it",
  builtVsAlreadyValid: 'Built versus AlreadyValid depends on what the store held already; both are success and the client fetches the outputs the same way',
  openAfterFatalError:
    "Nix 2.8's daemon hangs up after an error it raises before starting an op (a malformed store path); the farm answers the same STDERR_ERROR but, having read the request whole, keeps the session until the client closes it (the recorded client closes at once, and then the session ends). Nix's client keeps using a connection after a daemon error, so staying open never hurts it",
} as const;
type Accepted = keyof typeof ACCEPTED;

const SESSION_TIMEOUT_MS = 60_000;

let dir: TempDir;
let farm: FarmUp;
let client: FarmClient;
const catalog = new PathCatalog();
const decoded = new Map<string, { t: RecordedTranscript; session: ClientSession; nix: ServeAnswers | WorkerAnswers }>();

const farmEnv = (): NodeJS.ProcessEnv => ({ ...process.env, FARM_STATE_DIR: farm.stateDir, FARM_COORDINATOR: '', FARM_DOOR_SOCKET: '' });

async function decodeTranscript(name: string) {
  const t = loadTranscript(name);
  const session = await decodeClientSession(t);
  const nix = session.protocol === 'serve' ? await decodeServeAnswers(nixServerBytes(t), session.requests, session.version) : await decodeWorkerAnswers(nixServerBytes(t), session.requests, session.version);
  return { t, session, nix };
}

before(async () => {
  dir = await makeTempDir('farm-door-transcripts-');
  const starting = startFarmUp({ stateDir: join(dir.path, 'state'), args: ['--agents', '1', '--max-jobs', '2', '--emulation', 'qemu'] });
  try {
    catalog.addStorePathVectors();
    for (const name of CAPTURE_ORDER) decoded.set(name, await decodeTranscript(name));
    for (const { session, nix } of decoded.values()) catalog.addSession(session, nix);
    // The scripted sessions' server had capture.nix's .drv files: instantiate them the same way.
    const chroot = join(dir.path, 'nix-chroot');
    const nixEnv = { ...process.env, HOME: dir.path, XDG_CACHE_HOME: join(dir.path, 'cache') };
    for (const { session, nix } of decoded.values()) catalog.instantiateCaptureDerivations(preexistingPaths(session, nix, catalog), chroot, nixEnv);
  } finally {
    farm = await starting;
  }
  client = new FarmClient(farm.grpc);
});

after(async () => {
  client?.close();
  const code = await farm?.stop();
  await dir?.remove();
  assert.equal(code, 0, 'farm up stops cleanly');
});

test('the replay covers every transcript of transcripts/index.json', () => {
  const listed = transcriptIndex().map((e) => e.file.replace(/^transcripts\/(.*)\.json$/, '$1'));
  assert.deepEqual([...CAPTURE_ORDER].sort(), listed.sort());
  for (const e of transcriptIndex()) {
    const { session } = decoded.get(e.file.replace(/^transcripts\/(.*)\.json$/, '$1'))!;
    const ops = session.protocol === 'serve' ? session.requests.map((r) => r.cmd) : session.requests.map((r) => r.op);
    assert.deepEqual(['handshake', ...ops], e.ops, `${e.file}: the client stream cuts into the indexed requests`);
  }
});

/** Collects every difference of one session, so that a failure lists all of them at once. */
class Verdict {
  readonly problems: string[] = [];
  readonly accepted = new Map<Accepted, string[]>();
  problem(where: string, text: string): void {
    this.problems.push(`${where}: ${text}`);
  }
  check(ok: boolean, where: string, text: string): void {
    if (!ok) this.problem(where, text);
  }
  accept(what: Accepted, where: string): void {
    const list = this.accepted.get(what) ?? [];
    list.push(where);
    this.accepted.set(what, list);
  }
  /** Equal as values: objects compare by their entries, whatever their key order. */
  same(nix: unknown, farm: unknown, where: string, field: string): void {
    const a = canonicalJson(nix);
    const b = canonicalJson(farm);
    if (a !== b) this.problem(where, `${field}: Nix ${a}, farm ${b}`);
  }
}

function canonicalJson(value: unknown): string {
  return JSON.stringify(value, (_k, v: unknown) =>
    v !== null && typeof v === 'object' && !Array.isArray(v) && !(v instanceof Uint8Array) ? Object.fromEntries(Object.entries(v).sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0))) : v,
  );
}

const sorted = (xs: readonly string[]): string[] => [...xs].sort();
const hashOf = (b: Uint8Array): string => sha256(b).base16;
const statusText = (s: number): string => `${s} ${buildStatusName(s) ?? '?'}`;

function sameNar(nix: Uint8Array, farm: Uint8Array, where: string, v: Verdict): void {
  v.check(Buffer.from(nix).equals(Buffer.from(farm)), where, `NAR: Nix ${nix.length} bytes sha256 ${hashOf(nix)}, farm ${farm.length} bytes sha256 ${hashOf(farm)}`);
}

/** deriver, narHash, references, narSize, ca must be equal; registrationTime, ultimate, sigs are the farm's own. */
function samePathInfo(nix: WirePathInfoFields, farm: WirePathInfoFields, where: string, v: Verdict): void {
  v.same(nix.deriver, farm.deriver, where, 'deriver');
  v.same(nix.narHash, farm.narHash, where, 'narHash');
  v.same(sorted(nix.references), sorted(farm.references), where, 'references');
  v.same(nix.narSize, farm.narSize, where, 'narSize');
  v.same(nix.ca, farm.ca, where, 'ca');
  if (nix.registrationTime !== farm.registrationTime) v.accept('registrationTime', where);
  if (nix.ultimate !== farm.ultimate) v.accept('ultimate', where);
  if (JSON.stringify(nix.sigs) !== JSON.stringify(farm.sigs)) v.accept('sigs', where);
}

/** Output name → path as the client reads builtOutputs (the Realisation's outPath is a base name). */
function builtOutputPaths(r: BuildResult, where: string, v: Verdict): Record<string, string> {
  const out: Record<string, string> = {};
  for (const o of r.builtOutputs) {
    const m = /^sha256:[0-9a-f]{64}!(.+)$/.exec(o.id);
    if (m === null) {
      v.problem(where, `builtOutputs id '${o.id}' is not 'sha256:<hex>!<output>'`);
      continue;
    }
    let realisation: { id?: unknown; outPath?: unknown };
    try {
      realisation = JSON.parse(o.realisation) as { id?: unknown; outPath?: unknown };
    } catch {
      v.problem(where, `builtOutputs '${o.id}': the Realisation is not JSON: ${o.realisation}`);
      continue;
    }
    v.check(realisation.id === o.id, where, `builtOutputs '${o.id}': the Realisation says id ${JSON.stringify(realisation.id)}`);
    out[m[1]!] = `/nix/store/${String(realisation.outPath)}`;
  }
  return out;
}

interface BuildExpectation {
  /** The derivation's outputs (name → path) when the request names them (BuildDerivation). */
  readonly outputs?: ReadonlyMap<string, string>;
  /** An aarch64-linux derivation Nix's x86_64 server refused. */
  readonly aarch64: boolean;
}

function sameBuildResult(nix: BuildResult, farm: BuildResult, expect: BuildExpectation, where: string, v: Verdict): void {
  const nixOk = isBuildSuccess(nix.status);
  const farmOk = farm.status === BuildStatus.Built || farm.status === BuildStatus.AlreadyValid;
  if (expect.aarch64 && !nixOk) {
    v.accept('aarch64', where);
    v.check(farmOk, where, `the farm must build this aarch64-linux derivation (Nix: ${statusText(nix.status)}), but answered ${statusText(farm.status)}: ${farm.errorMsg}`);
  } else if (nixOk) {
    v.check(farmOk, where, `Nix: ${statusText(nix.status)}, farm: ${statusText(farm.status)} ${JSON.stringify(farm.errorMsg)}`);
    if (farmOk && farm.status !== nix.status) v.accept('builtVsAlreadyValid', where);
  } else {
    v.check(!isBuildSuccess(farm.status), where, `Nix failed (${statusText(nix.status)}), the farm answered ${statusText(farm.status)}`);
    if (nix.status === BuildStatus.PermanentFailure) v.same(statusText(nix.status), statusText(farm.status), where, 'failure status (the builder exits 3)');
    v.check(farm.errorMsg !== '', where, 'a failed build comes with a message');
    v.accept('wording', where);
  }
  if (!farmOk) return;
  v.same(farm.status === BuildStatus.Built ? 1 : 0, farm.timesBuilt, where, 'timesBuilt (1 when built, 0 when already valid)');
  if (farm.status === BuildStatus.Built) v.check(farm.stopTime >= farm.startTime && farm.startTime > 0, where, `build times ${farm.startTime}..${farm.stopTime}`);
  if (nix.startTime !== farm.startTime || nix.stopTime !== farm.stopTime) v.accept('buildTimes', where);
  // What the client does with builtOutputs (`nix build` over ssh-ng:// takes its out paths from them).
  const expected = nixOk ? builtOutputPaths(nix, `${where} (Nix)`, v) : Object.fromEntries(expect.outputs ?? []);
  v.same(expected, builtOutputPaths(farm, where, v), where, 'builtOutputs (output → path)');
  if (nixOk && JSON.stringify(sorted(nix.builtOutputs.map((o) => o.id))) !== JSON.stringify(sorted(farm.builtOutputs.map((o) => o.id)))) v.accept('drvOutputIds', where);
}

const isAarch64 = (system: string): boolean => system === 'aarch64-linux';

function compareServe(i: number, req: ServeRequest, nix: ServeReply, farm: ServeReply, v: Verdict): void {
  const where = `#${i + 1} ${req.cmd}`;
  if (farm.cmd !== nix.cmd) return v.problem(where, `reply decoded as ${farm.cmd}`);
  switch (nix.cmd) {
    case 'QueryValidPaths':
    case 'QueryClosure':
      return v.same(sorted(nix.paths), sorted((farm as typeof nix).paths), where, 'paths');
    case 'QueryPathInfos': {
      const f = farm as typeof nix;
      v.same(nix.infos.map((x) => x.path), f.infos.map((x) => x.path), where, 'paths described');
      for (const n of nix.infos) {
        const m = f.infos.find((x) => x.path === n.path);
        if (m === undefined) continue;
        const at = `${where} ${n.path}`;
        for (const k of ['deriver', 'narHash', 'narSize', 'downloadSize', 'ca'] as const) v.same(n[k], m[k], at, k);
        v.same(sorted(n.references), sorted(m.references), at, 'references');
        if (JSON.stringify(n.sigs) !== JSON.stringify(m.sigs)) v.accept('sigs', at);
      }
      return;
    }
    case 'DumpStorePath':
      return sameNar(nix.nar, (farm as typeof nix).nar, `${where} ${req.cmd === 'DumpStorePath' ? req.path : ''}`, v);
    case 'ExportPaths': {
      const f = farm as typeof nix;
      v.same(nix.paths.map((p) => p.path), f.paths.map((p) => p.path), where, 'exported paths, in order');
      for (const [k, n] of nix.paths.entries()) {
        const m = f.paths[k];
        if (m === undefined || m.path !== n.path) continue;
        v.same([n.deriver, sorted(n.references), n.legacySignature !== undefined], [m.deriver, sorted(m.references), m.legacySignature !== undefined], `${where} ${n.path}`, 'deriver, references, legacy signature');
        sameNar(n.nar, m.nar, `${where} ${n.path}`, v);
      }
      return;
    }
    case 'ImportPaths':
    case 'AddToStoreNar':
      return v.same(nix.result, (farm as typeof nix).result, where, 'result');
    case 'BuildPaths': {
      const f = farm as typeof nix;
      v.check((nix.status === 0) === (f.status === 0), where, `Nix status ${nix.status}, farm status ${f.status} ${JSON.stringify(f.errorMsg)}`);
      if (nix.status !== 0) v.accept('wording', where);
      return;
    }
    case 'BuildDerivation': {
      if (req.cmd !== 'BuildDerivation') return;
      const outputs = new Map([...req.derivation.outputs].map(([k, o]) => [k, o.path]));
      return sameBuildResult(nix.result, (farm as typeof nix).result, { outputs, aarch64: isAarch64(req.derivation.system) }, where, v);
    }
  }
}

function compareWorker(i: number, req: WorkerRequest, nix: WorkerResponse, farm: WorkerResponse, v: Verdict): void {
  const where = `#${i + 1} ${req.op}`;
  if (farm.stderr.some((m) => m.type === 'next' || m.type === 'result' || m.type === 'startActivity') || nix.stderr.length > 1) v.accept('logFraming', where);
  if ((nix.error === undefined) !== (farm.error === undefined)) {
    return v.problem(where, `Nix answered ${nix.error === undefined ? 'a reply' : `STDERR_ERROR ${JSON.stringify(nix.error.message)}`}, the farm ${farm.error === undefined ? 'a reply' : `STDERR_ERROR ${JSON.stringify(farm.error.message)}`}`);
  }
  if (nix.error !== undefined) return v.accept('wording', where);
  const n = nix.reply;
  const f = farm.reply;
  if (n === undefined || f === undefined || f.op !== n.op) return v.problem(where, `reply decoded as ${f?.op ?? 'nothing'}`);
  switch (n.op) {
    case 'IsValidPath':
      return v.same(n.valid, (f as typeof n).valid, where, 'valid');
    case 'QueryValidPaths':
      return v.same(sorted(n.paths), sorted((f as typeof n).paths), where, 'paths');
    case 'QueryPathInfo': {
      const m = (f as typeof n).info;
      v.same(n.info !== undefined, m !== undefined, where, 'valid');
      if (n.info !== undefined && m !== undefined) samePathInfo(n.info, m, `${where} ${req.op === 'QueryPathInfo' ? req.path : ''}`, v);
      return;
    }
    case 'QueryPathFromHashPart':
    case 'AddTextToStore':
      return v.same(n.path, (f as typeof n).path, where, 'path');
    case 'NarFromPath':
      return sameNar(n.nar, (f as typeof n).nar, `${where} ${req.op === 'NarFromPath' ? req.path : ''}`, v);
    case 'AddToStore': {
      const m = (f as typeof n).info;
      v.same(n.info.path, m.path, where, 'path');
      return samePathInfo(n.info, m, where, v);
    }
    case 'QueryDerivationOutputMap':
      return v.same(Object.fromEntries(n.outputs), Object.fromEntries((f as typeof n).outputs), where, 'output map');
    case 'QueryMissing': {
      const m = f as typeof n;
      v.same(sorted(n.willBuild), sorted(m.willBuild), where, 'willBuild');
      v.same(sorted(n.willSubstitute), sorted(m.willSubstitute), where, 'willSubstitute');
      v.same(sorted(n.unknown), sorted(m.unknown), where, 'unknown');
      v.same([n.downloadSize, n.narSize], [m.downloadSize, m.narSize], where, 'downloadSize, narSize');
      return;
    }
    case 'BuildPaths':
    case 'EnsurePath':
    case 'AddTempRoot':
    case 'AddSignatures':
    case 'AddBuildLog':
      return v.same(n.result, (f as typeof n).result, where, 'result');
    case 'BuildPathsWithResults': {
      const m = f as typeof n;
      v.same(sorted(n.results.map((r) => r.path)), sorted(m.results.map((r) => r.path)), where, 'derived paths answered');
      for (const r of n.results) {
        const fr = m.results.find((x) => x.path === r.path);
        if (fr !== undefined) sameBuildResult(r.result, fr.result, { aarch64: false }, `${where} ${r.path}`, v);
      }
      return;
    }
    case 'BuildDerivation': {
      if (req.op !== 'BuildDerivation') return;
      const outputs = new Map([...req.derivation.outputs].map(([k, o]) => [k, o.path]));
      return sameBuildResult(n.result, (f as typeof n).result, { outputs, aarch64: isAarch64(req.derivation.system) }, where, v);
    }
    case 'SetOptions':
    case 'AddToStoreNar':
    case 'AddMultipleToStore':
    case 'RegisterDrvOutput':
    case 'QueryRealisation':
    case 'AddPermRoot':
      return v.same(n, f, where, 'reply');
  }
}

/** Lines of build output in a worker response: STDERR_NEXT text, or BuildLogLine results (type 101). */
function logLines(r: WorkerResponse | undefined): string[] {
  const lines: string[] = [];
  for (const m of r?.stderr ?? []) {
    if (m.type === 'next') lines.push(...m.text.split('\n').filter((l) => l !== ''));
    if (m.type === 'result' && m.resultType === 101 && m.fields[0]?.type === 'string') lines.push(m.fields[0].value);
  }
  return lines;
}

/** The session's end: Nix's server either answered everything (clean EOF) or hung up at a request. */
function judgeEnd(nix: ServeAnswers | WorkerAnswers, farm: ServeAnswers | WorkerAnswers, run: DoorSessionRun, v: Verdict): void {
  v.check(farm.decodeError === undefined, 'session', `the client cannot decode the farm's answer: ${farm.decodeError}`);
  v.check(farm.leftover.length === 0, 'session', `${farm.leftover.length} bytes after the last answer: ${Buffer.from(farm.leftover.subarray(0, 64)).toString('hex')}…`);
  if (nix.endedAt !== undefined) {
    // Serve has no error channel: Nix's server writes the error to stderr and exits.
    v.same(nix.endedAt, farm.endedAt ?? 'every request answered', 'session', 'the request at which the server ends the session (index)');
    v.check(run.code !== 0 && /^farm: error: /m.test(run.stderr), 'session', `the farm ends the session with a failure status and an error on stderr (exit ${run.code}, stderr ${JSON.stringify(run.stderr.slice(-300))})`);
    return;
  }
  v.check(farm.endedAt === undefined, 'session', `the farm hung up at request #${(farm.endedAt ?? 0) + 1} (exit ${run.code}); stderr: ${run.stderr.slice(-500)}`);
  if (nix.leftover.length > 0) {
    v.check('trailing' in nix && nix.trailing?.every((m) => m.type === 'error') === true, 'session', 'only a repeated fatal error follows Nix’s last answer');
    v.accept('repeatedFatalError', 'session');
  }
  if ('responses' in nix && nix.leftover.length > 0 && nix.responses.at(-1)?.error !== undefined) v.accept('openAfterFatalError', 'session');
  v.same(0, run.code, 'session', 'exit status once the client closed stdin');
}

/** The NAR hash Nix's server produced for cap-a (x86_64) in serve-offload-1: the aarch64 twins run the same script on the same text. */
function capANarHash(): string {
  const { session, nix } = decoded.get('serve-offload-1')!;
  const i = session.requests.findIndex((r) => 'cmd' in r && r.cmd === 'DumpStorePath');
  const reply = (nix as ServeAnswers).replies[i];
  assert.ok(reply?.cmd === 'DumpStorePath');
  return hashOf(reply.nar);
}

async function checkAarch64Builds(session: ClientSession, farm: ServeAnswers | WorkerAnswers, v: Verdict, note: (line: string) => void): Promise<void> {
  for (const [i, req] of session.requests.entries()) {
    const basic = 'cmd' in req ? (req.cmd === 'BuildDerivation' ? req : undefined) : req.op === 'BuildDerivation' ? req : undefined;
    if (basic === undefined || !isAarch64(basic.derivation.system)) continue;
    const where = `#${i + 1} BuildDerivation ${basic.drvPath}`;
    const records = await client.builds(basic.drvPath);
    const reply = session.protocol === 'serve' ? (farm as ServeAnswers).replies[i] : (farm as WorkerAnswers).responses[i]?.reply;
    const status = reply !== undefined && (('cmd' in reply && reply.cmd === 'BuildDerivation') || ('op' in reply && reply.op === 'BuildDerivation')) ? (reply as { result: BuildResult }).result.status : undefined;
    if (status === BuildStatus.Built) {
      v.check(records.some((b) => b.status === 'built' && /-aarch64$/.test(b.agentId)), where, `built on the aarch64 agent (records: ${JSON.stringify(records.map((b) => [b.agentId, b.status]))})`);
    }
    // Built now or by an earlier session: either way an aarch64 agent built it, and nothing else did.
    v.check(records.length > 0 && records.every((b) => /-aarch64$/.test(b.agentId)), where, `only the aarch64 agent builds aarch64-linux (records: ${JSON.stringify(records.map((b) => [b.agentId, b.status]))})`);
    note(`${where}: farm ${statusText(status ?? -1)}; build records ${JSON.stringify(records.map((b) => [b.agentId, b.status]))}`);
    for (const o of basic.derivation.outputs.values()) {
      const [missing] = await client.missing([o.path]);
      v.check(missing === undefined, where, `output ${o.path} is valid in the farm store`);
      if (missing !== undefined) continue;
      const hash = await client.narSha256Hex(o.path);
      v.same(capANarHash(), hash, where, `NAR sha256 of ${o.path} (same script and input as x86_64 cap-a)`);
      note(`${where}: ${o.path} NAR sha256 ${hash}`);
    }
  }
}

function report(t: TestContext, name: string, seeded: readonly string[], run: DoorSessionRun, v: Verdict): void {
  t.diagnostic(`${name}: seeded ${seeded.length} path(s)${seeded.length > 0 ? `: ${seeded.map((p) => p.slice(44)).join(', ')}` : ''}; session ${run.ms} ms, exit ${run.code}`);
  for (const [what, where] of v.accepted) t.diagnostic(`accepted (${what}) at ${where.join('; ')}: ${ACCEPTED[what]}`);
}

type ServeSession = Extract<ClientSession, { protocol: 'serve' }>;

/** Answer decoding reports everything after the handshake; a handshake it cannot read ends the test here. */
function unreadableHandshake(e: unknown, run: DoorSessionRun): never {
  throw new Error(`the client cannot read the farm's handshake (${e instanceof Error ? e.message : String(e)}); ${run.stdout.length} bytes, exit ${run.code}, stderr:\n${run.stderr.slice(-1500)}`);
}
type WorkerSession = Extract<ClientSession, { protocol: 'worker' }>;

/** The farm's serve answers, decoded as Nix's client reads them, against Nix's. */
async function judgeServe(session: ServeSession, nix: ServeAnswers, run: DoorSessionRun, v: Verdict): Promise<ServeAnswers> {
  const farm = await decodeServeAnswers(run.stdout, session.requests, session.version).catch((e: unknown) => unreadableHandshake(e, run));
  v.same(nix.serverVersion, farm.serverVersion, 'handshake', 'serve protocol version');
  for (const [i, req] of session.requests.entries()) {
    const n = nix.replies[i];
    const f = farm.replies[i];
    if (n !== undefined && f !== undefined) compareServe(i, req, n, f, v);
  }
  // Serve build logs go to stderr (Nix's build hook shows them): a failing builder's lines must arrive.
  const failed = session.requests.some((req, i) => {
    const n = nix.replies[i];
    return (req.cmd === 'BuildDerivation' && n?.cmd === 'BuildDerivation' && n.result.status === BuildStatus.PermanentFailure) || (n?.cmd === 'BuildPaths' && n.status !== 0);
  });
  if (failed) v.check(/about to fail/.test(run.stderr) && /oops/.test(run.stderr), 'stderr', `the failing build's log reaches the client's stderr: ${JSON.stringify(run.stderr.slice(-500))}`);
  return farm;
}

/** The farm's worker answers, decoded as Nix's client reads them, against Nix's. */
async function judgeWorker(session: WorkerSession, nix: WorkerAnswers, run: DoorSessionRun, v: Verdict): Promise<WorkerAnswers> {
  const farm = await decodeWorkerAnswers(run.stdout, session.requests, session.version).catch((e: unknown) => unreadableHandshake(e, run));
  v.same(nix.serverVersion, farm.serverVersion, 'handshake', 'worker protocol version');
  v.same(nix.startup.map((m) => m.type), farm.startup.map((m) => m.type), 'handshake', 'startup stderr messages');
  if (nix.info.nixVersion !== farm.info.nixVersion) v.accept('nixVersion', 'handshake');
  for (const [i, req] of session.requests.entries()) {
    const n = nix.responses[i];
    const f = farm.responses[i];
    if (n === undefined || f === undefined) continue;
    compareWorker(i, req, n, f, v);
    // Build output Nix's daemon streamed (BuildLogLine) must reach the client from the farm too,
    // unless the farm did not run the build at all (its outputs were valid already).
    const reused = f.reply?.op === 'BuildDerivation' && f.reply.result.status === BuildStatus.AlreadyValid;
    const missing = logLines(n).filter((l) => !logLines(f).includes(l));
    if (!reused) v.check(missing.length === 0, `#${i + 1} ${req.op}`, `build log lines Nix sent and the farm did not: ${JSON.stringify(missing)}`);
  }
  return farm;
}

for (const name of CAPTURE_ORDER) {
  test(`${name}: the farm's door answers as Nix's client expects`, async (t) => {
    const { t: transcript, session, nix } = decoded.get(name)!;
    const seeded = await seedThroughDoor(catalog, preexistingPaths(session, nix, catalog), farmEnv());
    const run = await runDoorSession(session.protocol, clientBytes(transcript), farmEnv(), SESSION_TIMEOUT_MS);
    assert.equal(run.hung, false, `the door did not end the session within ${SESSION_TIMEOUT_MS} ms; stderr:\n${run.stderr.slice(-2000)}`);
    const v = new Verdict();
    const farm = session.protocol === 'serve' ? await judgeServe(session, nix as ServeAnswers, run, v) : await judgeWorker(session, nix as WorkerAnswers, run, v);
    judgeEnd(nix, farm, run, v);
    await checkAarch64Builds(session, farm, v, (line) => t.diagnostic(line));
    report(t, name, seeded, run, v);
    assert.deepEqual(v.problems, [], `${name}: the farm's answers differ from Nix's:\n${v.problems.join('\n')}\nfarm stderr:\n${run.stderr.slice(-1500)}`);
  });
}
