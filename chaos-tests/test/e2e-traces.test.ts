/**
 * Traces end to end (issue 7): `farm up` and `farm submit` export over OTLP to the test kit's
 * in-process receiver (there is no trace backend on these machines), and the spans of one
 * submission form one tree across the three processes: farm submit (farm-cli) → Submit and
 * admission (farm-coordinator) → each job's queue wait and lease → the agent's build with its
 * fetch/sandbox/hash/upload children (farm-agent) → apply result (farm-coordinator). The farm is
 * stopped before asserting, so every process has flushed its spans.
 * Also: the gRPC protocol, and that with tracing off nothing is sent and no SDK is loaded.
 */
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { makeTempDir, otelEnv, REPO_ROOT, runFarm, startFarmUp, startOtlpReceiver, type FarmUp, type OtlpReceiver, type ReceivedSpan, type TempDir } from '@farm/testkit';

const NONCE = `${Date.now()}-${process.pid}`;
/** What every traced process gets besides the endpoint: no ambient OTEL_* of the machine. */
const CLEAN_OTEL = { OTEL_SDK_DISABLED: '', OTEL_TRACES_EXPORTER: '', OTEL_SERVICE_NAME: '', OTEL_EXPORTER_OTLP_TRACES_ENDPOINT: '', OTEL_EXPORTER_OTLP_TRACES_PROTOCOL: '' };

let dir: TempDir;
let receiver: OtlpReceiver;

before(async () => {
  dir = await makeTempDir('farm-traces-');
  receiver = await startOtlpReceiver();
});

after(async () => {
  await receiver?.close();
  await dir?.remove();
});

/**
 * Six independent leaves (one with an output above the inline limit, so it is uploaded with
 * AddPath) and a top that needs them all; every name carries the nonce, so nothing is built yet.
 */
function writeDag(name: string, leaves: number): string {
  const file = join(dir.path, `${name}.nix`);
  const leaf = (i: number) =>
    i === 0
      ? `l${i} = sh "l${i}" "i=0; while [ $i -lt 2500 ]; do echo \\"line $i of a big output ${NONCE}\\"; i=$((i+1)); done > $out";`
      : `l${i} = sh "l${i}" "i=0; while [ $i -lt 30000 ]; do i=$((i+1)); done; echo leaf ${i} ${NONCE} > $out";`;
  const names = Array.from({ length: leaves }, (_, i) => `l${i}`);
  writeFileSync(
    file,
    `let
  sh = name: script: derivation { name = "traces-${name}-\${name}-${NONCE}"; system = "x86_64-linux"; builder = "/bin/sh"; args = [ "-c" script ]; };
  ${Array.from({ length: leaves }, (_, i) => leaf(i)).join('\n  ')}
  top = sh "top" "echo top ${names.map((n) => `\${${n}}`).join(' ')} > $out";
in { inherit top; }
`,
  );
  return file;
}

async function tracedFarm(name: string, protocol: 'http/protobuf' | 'grpc', agents: number, extraArgs: readonly string[] = []): Promise<FarmUp> {
  return startFarmUp({
    stateDir: join(dir.path, name),
    args: ['--agents', String(agents), '--max-jobs', '1', '--emulation', 'off', '--ssh-listen', 'off', '--cache-listen', 'off', ...extraArgs],
    env: { ...CLEAN_OTEL, ...otelEnv(receiver, protocol) },
  });
}

function submit(farm: FarmUp, file: string, env: NodeJS.ProcessEnv): Promise<{ code: number | null; stdout: string; stderr: string }> {
  return runFarm(['submit', '-f', file, '-A', 'top'], { env: { FARM_STATE_DIR: farm.stateDir, FARM_COORDINATOR: '', ...CLEAN_OTEL, ...env }, timeoutMs: 120_000 });
}

/** The one trace whose root is the `farm submit` span of `client` (spans of that trace only). */
function traceOf(spans: readonly ReceivedSpan[], submissionId: string): { root: ReceivedSpan; spans: ReceivedSpan[] } {
  const roots = spans.filter((s) => s.name === 'farm submit' && s.attributes['farm.submission_id'] === submissionId);
  assert.equal(roots.length, 1, `one 'farm submit' span for ${submissionId}`);
  const root = roots[0]!;
  return { root, spans: spans.filter((s) => s.traceId === root.traceId) };
}

function byId(spans: readonly ReceivedSpan[]): Map<string, ReceivedSpan> {
  return new Map(spans.map((s) => [s.spanId, s]));
}

function parentOf(s: ReceivedSpan, index: Map<string, ReceivedSpan>): ReceivedSpan {
  const p = index.get(s.parentSpanId);
  assert.ok(p !== undefined, `the parent of ${s.serviceName}/${s.name} (${s.parentSpanId}) was received`);
  return p;
}

function submissionIdIn(stdout: string, stderr: string): string {
  const m = /submitted (sub_[A-Za-z0-9_-]+)/.exec(`${stderr}\n${stdout}`);
  assert.ok(m !== null, `no submission id in the output:\n${stderr}`);
  return m[1]!;
}

test('one submission is one trace across farm-cli, farm-coordinator and two farm-agents (OTLP http/protobuf)', async () => {
  const farm = await tracedFarm('http', 'http/protobuf', 2);
  let run;
  try {
    run = await submit(farm, writeDag('http', 6), otelEnv(receiver, 'http/protobuf'));
    assert.equal(run.code, 0, `farm submit failed:\n${run.stderr.slice(-4000)}`);
  } finally {
    assert.equal(await farm.stop(), 0, 'farm up stops cleanly');
  }
  const submissionId = submissionIdIn(run.stdout, run.stderr);
  // Everything was flushed on exit; the receiver has it all already.
  const { root, spans } = traceOf(receiver.spans(), submissionId);
  const index = byId(spans);

  // One tree: a single root (farm submit, from the CLI), every other parent received.
  assert.equal(root.serviceName, 'farm-cli');
  assert.equal(root.parentSpanId, '');
  assert.deepEqual(spans.filter((s) => s.parentSpanId === '').map((s) => s.name), ['farm submit'], 'the only root is farm submit');
  for (const s of spans) if (s !== root) parentOf(s, index);
  assert.deepEqual([...new Set(spans.map((s) => s.serviceName))].sort(), ['farm-agent', 'farm-cli', 'farm-coordinator']);

  const named = (name: string) => spans.filter((s) => s.name === name);
  const one = (name: string) => {
    const found = named(name);
    assert.equal(found.length, 1, `one '${name}' span (got ${found.length})`);
    return found[0]!;
  };
  // The CLI: evaluate and upload under the root; Submit's server span and the admission under it.
  assert.equal(parentOf(one('evaluate'), index), root);
  const upload = one('upload');
  assert.equal(parentOf(upload, index), root);
  assert.ok(Number(upload.attributes['farm.bytes']) > 0, 'upload counts its bytes');
  const submitRpc = one('farm.v1.Coordinator/Submit');
  assert.equal(submitRpc.serviceName, 'farm-coordinator');
  assert.equal(submitRpc.kind, 'SPAN_KIND_SERVER');
  assert.equal(parentOf(submitRpc, index), root);
  assert.equal(submitRpc.attributes['rpc.system'], 'grpc');
  assert.equal(submitRpc.attributes['rpc.service'], 'farm.v1.Coordinator');
  assert.equal(submitRpc.attributes['rpc.method'], 'Submit');
  const admission = one('admission');
  assert.equal(parentOf(admission, index), submitRpc);
  assert.equal(admission.attributes['farm.submission_id'], submissionId);
  // Uploads of the CLI reached the coordinator inside the upload span.
  assert.ok(spans.some((s) => s.serviceName === 'farm-coordinator' && s.attributes['rpc.method'] === 'AddDerivations' && index.get(s.parentSpanId) === upload), 'AddDerivations is a child of upload');

  // Per job: queue wait and lease under the admission; build under the lease (on an agent);
  // its children; apply result under the build.
  const leases = named('lease');
  assert.equal(leases.length, 7, 'one lease per job (6 leaves + top), each built once');
  const agents = new Set<string>();
  for (const lease of leases) {
    const drv = String(lease.attributes['farm.drv_path']);
    assert.match(drv, /^\/nix\/store\/[a-z0-9]{32}-traces-http-/);
    assert.equal(parentOf(lease, index), admission);
    assert.ok(Number(lease.attributes['farm.epoch']) >= 1, 'the lease names its epoch');
    assert.equal(lease.attributes['farm.outcome'], 'succeeded');
    const wait = named('queue wait').filter((s) => s.attributes['farm.drv_path'] === drv);
    assert.equal(wait.length, 1, `one queue wait for ${drv}`);
    assert.equal(parentOf(wait[0]!, index), admission);
    assert.ok(wait[0]!.endNs <= lease.startNs + 1_000_000n, 'queue wait ends where the lease starts');
    const builds = spans.filter((s) => s.name === 'build' && s.parentSpanId === lease.spanId);
    assert.equal(builds.length, 1, `one build under the lease of ${drv}`);
    const build = builds[0]!;
    assert.equal(build.serviceName, 'farm-agent');
    assert.equal(build.attributes['farm.drv_path'], drv);
    assert.equal(build.attributes['farm.epoch'], lease.attributes['farm.epoch']);
    assert.equal(build.attributes['farm.system'], 'x86_64-linux');
    assert.equal(build.attributes['farm.outcome'], 'BUILD_STATUS_BUILT');
    assert.equal(build.attributes['farm.agent'], lease.attributes['farm.agent'], 'the build ran on the agent the lease names');
    agents.add(String(build.attributes['farm.agent']));
    const children = new Set(spans.filter((s) => s.parentSpanId === build.spanId).map((s) => s.name));
    for (const c of ['fetch inputs', 'sandbox run', 'hash outputs', 'upload outputs', 'apply result']) assert.ok(children.has(c), `${drv}: '${c}' under build (has ${[...children].join(', ')})`);
    const apply = spans.find((s) => s.name === 'apply result' && s.parentSpanId === build.spanId)!;
    assert.equal(apply.serviceName, 'farm-coordinator');
    assert.equal(apply.attributes['messaging.system'], 'nats');
    assert.match(String(apply.attributes['messaging.destination.name']), /^farm\.results\./);
    assert.equal(apply.attributes['farm.outcome'], 'accepted');
  }
  assert.equal(agents.size, 2, `jobs ran on both agents (${[...agents].join(', ')})`);
  // The big leaf's output went up with AddPath, a server span under that build's upload outputs.
  const addPaths = spans.filter((s) => s.attributes['rpc.method'] === 'AddPath');
  assert.ok(addPaths.length >= 1, 'the big output was uploaded with AddPath');
  for (const a of addPaths) assert.equal(parentOf(a, index).name, 'upload outputs');
  for (const g of spans.filter((s) => s.attributes['rpc.method'] === 'GetNar')) assert.equal(parentOf(g, index).name, 'fetch inputs');
  const bigUpload = spans.find((s) => s.name === 'upload outputs' && s.attributes['farm.inline'] === false);
  assert.ok(bigUpload !== undefined && Number(bigUpload.attributes['farm.bytes']) > 64 * 1024, 'upload outputs counts the uploaded bytes');
  // Every span ended after it started; none is left unended (endNs 0).
  for (const s of spans) assert.ok(s.endNs >= s.startNs && s.startNs > 0n, `${s.name} has sane times`);
});

test('OTLP over gRPC: the same tree arrives through TraceService/Export; the dashboard links the trace', async () => {
  const farm = await tracedFarm('grpc', 'grpc', 1, ['--trace-url', 'http://tracing.example/trace/{traceId}']);
  let run;
  let overview: { submissions: { id: string; traceUrl?: string }[] };
  try {
    run = await submit(farm, writeDag('grpc', 1), otelEnv(receiver, 'grpc'));
    assert.equal(run.code, 0, `farm submit failed:\n${run.stderr.slice(-4000)}`);
    const { ops } = JSON.parse(readFileSync(join(farm.stateDir, 'address.json'), 'utf8')) as { ops: string };
    overview = (await (await fetch(`${ops}/api/overview`)).json()) as typeof overview;
  } finally {
    assert.equal(await farm.stop(), 0);
  }
  const { root, spans } = traceOf(receiver.spans(), submissionIdIn(run.stdout, run.stderr));
  const index = byId(spans);
  for (const s of spans) {
    assert.equal(s.via, 'grpc', `${s.name} came over gRPC`);
    if (s !== root) parentOf(s, index);
  }
  assert.deepEqual([...new Set(spans.map((s) => s.serviceName))].sort(), ['farm-agent', 'farm-cli', 'farm-coordinator']);
  for (const name of ['admission', 'lease', 'queue wait', 'build', 'sandbox run', 'apply result']) assert.ok(spans.some((s) => s.name === name), `a '${name}' span`);
  const shown = overview.submissions.find((s) => s.id === root.attributes['farm.submission_id']);
  assert.equal(shown?.traceUrl, `http://tracing.example/trace/${root.traceId}`, "the dashboard links the submission's trace");
});

test('tracing off: nothing is sent, and the CLI loads no OpenTelemetry SDK module', async () => {
  // The SDK's modules, seen through a module hook in a fresh `farm` process.
  const hook = join(dir.path, 'record-modules.mjs');
  const loaded = join(dir.path, 'loaded.txt');
  writeFileSync(
    hook,
    `import { registerHooks } from 'node:module';
import { appendFileSync } from 'node:fs';
registerHooks({ resolve(specifier, context, next) { const r = next(specifier, context); if (r.url.includes('@opentelemetry/')) appendFileSync(${JSON.stringify(loaded)}, r.url + '\\n'); return r; } });
`,
  );
  const node = join(REPO_ROOT, 'node_modules', 'node', 'bin', 'node');
  const main = join(REPO_ROOT, 'cli', 'dist', 'src', 'main.js');
  const farmRun = (env: Record<string, string>) => {
    writeFileSync(loaded, '');
    const r = spawnSync(node, ['--import', hook, main, 'nar', 'hash', main], { encoding: 'utf8', env: { ...process.env, ...CLEAN_OTEL, OTEL_EXPORTER_OTLP_ENDPOINT: '', OTEL_EXPORTER_OTLP_PROTOCOL: '', ...env }, timeout: 60_000 });
    assert.equal(r.status, 0, r.stderr);
    return readFileSync(loaded, 'utf8').split('\n').filter((l) => l !== '');
  };
  const sdk = (urls: string[]) => urls.filter((u) => /@opentelemetry\/(sdk-trace|exporter-|resources|context-async-hooks|core)\//.test(u));
  const before = receiver.requests;
  assert.deepEqual(sdk(farmRun({})), [], 'no OTEL_* variables: no SDK module');
  assert.deepEqual(sdk(farmRun({ ...otelEnv(receiver), OTEL_SDK_DISABLED: 'true' })), [], 'OTEL_SDK_DISABLED=true: no SDK module');
  assert.deepEqual(sdk(farmRun({ ...otelEnv(receiver), OTEL_TRACES_EXPORTER: 'none' })), [], 'OTEL_TRACES_EXPORTER=none: no SDK module');
  // Positive control: with the endpoint set the SDK is loaded (the hook does see it).
  assert.ok(sdk(farmRun(otelEnv(receiver))).some((u) => u.includes('@opentelemetry/sdk-trace/')), 'with an endpoint the SDK is loaded');
  assert.equal(receiver.requests, before, 'no command without spans sent anything');
});

test('a build offloaded through the Nix door is a trace of its own: nix door build → admission → lease → build → apply result', async () => {
  const farm = await tracedFarm('door', 'http/protobuf', 1);
  const expr = join(dir.path, 'door.nix');
  writeFileSync(expr, `derivation { name = "traces-door-${NONCE}"; system = "x86_64-linux"; builder = "/bin/sh"; args = [ "-c" "echo door ${NONCE} > $out" ]; }\n`);
  const relay = join(REPO_ROOT, 'cli', 'bin', 'farm-nix-stdio');
  try {
    const r = spawnSync(
      'nix-build',
      [expr, '--store', join(dir.path, 'door-store'), '--no-out-link', '--max-jobs', '0', '--option', 'substituters', '', '--builders', `ssh-ng://localhost?remote-program=${relay} x86_64-linux - 1`],
      { encoding: 'utf8', timeout: 120_000, env: { ...process.env, ...CLEAN_OTEL, FARM_STATE_DIR: farm.stateDir, FARM_COORDINATOR: '', HOME: dir.path, XDG_CACHE_HOME: join(dir.path, 'cache') } },
    );
    assert.equal(r.status, 0, `nix-build through the door failed:\n${r.stderr.slice(-3000)}`);
  } finally {
    assert.equal(await farm.stop(), 0, 'farm up stops cleanly');
  }
  const roots = receiver.spans().filter((s) => s.name === 'nix door build' && String(s.attributes['farm.drv_path']).includes(`traces-door-${NONCE}`));
  assert.equal(roots.length, 1, 'one nix door build span for the offloaded derivation');
  const root = roots[0]!;
  assert.equal(root.parentSpanId, '', 'the door build is the root of its trace');
  assert.equal(root.serviceName, 'farm-coordinator');
  const spans = receiver.spans().filter((s) => s.traceId === root.traceId);
  const index = byId(spans);
  for (const s of spans) if (s !== root) parentOf(s, index);
  assert.deepEqual([...new Set(spans.map((s) => s.serviceName))].sort(), ['farm-agent', 'farm-coordinator']);
  const admission = spans.find((s) => s.name === 'admission');
  assert.ok(admission !== undefined && parentOf(admission, index) === root, 'the door submission is admitted under the door build');
  const lease = spans.find((s) => s.name === 'lease' && s.parentSpanId === admission.spanId);
  assert.ok(lease !== undefined, 'the job has a lease under the admission');
  const build = spans.find((s) => s.name === 'build' && s.parentSpanId === lease.spanId);
  assert.ok(build !== undefined && build.serviceName === 'farm-agent', 'the agent built it under the lease');
  assert.ok(spans.some((s) => s.name === 'apply result' && s.parentSpanId === build.spanId), 'the result was applied under the build');
});
