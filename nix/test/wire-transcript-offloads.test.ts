/**
 * Cross-checks of the transcripts beyond byte equality:
 *  - index.json lists every transcript file, with the ops each one contains;
 *  - in offload transcripts, the BasicDerivation on the wire is the client's own .drv with
 *    inputDrvs dropped and (when it had inputDrvs) inputSrcs replaced by the input closure the
 *    hook queried with QueryValidPaths (spec §5.4, §6.5, §7.6);
 *  - the DrvOutput ids in the reply are the hashDerivationModulo of the derivation *as received*,
 *    which equals the client's id only when the derivation had no inputDrvs.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import {
  type BuildResult,
  type Derivation,
  SERVE_PROTOCOL_VERSION,
  WORKER_PROTOCOL_VERSION,
  type WireBasicDerivation,
  decodeServeClientHello,
  decodeServeReply,
  decodeServeRequest,
  decodeServeServerHello,
  decodeWorkerClientMagic,
  decodeWorkerClientSettings,
  decodeWorkerClientVersion,
  decodeWorkerRequest,
  decodeWorkerResponse,
  decodeWorkerServerHello,
  decodeWorkerServerInfo,
  drvOutputId,
  hashDerivationModulo,
  isBuildSuccess,
  parseDerivation,
  readStderrPhase,
} from '../src/index.js';
import { b64, loadTranscript, readerOver, transcriptFiles, transcriptIndex } from './transcripts.js';

interface Offload {
  drvPath: string;
  derivation: WireBasicDerivation;
  queried: readonly string[];
  result: BuildResult;
}

/** Decodes a transcript's BuildDerivation requests/results and the QueryValidPaths before each. */
async function offloadsOf(file: string): Promise<Offload[]> {
  const t = loadTranscript(file);
  const c2s = readerOver(b64(t.c2sBase64));
  const s2c = readerOver(b64(t.s2cBase64));
  const out: Offload[] = [];
  let queried: readonly string[] = [];
  if (t.protocol === 'serve') {
    const v = Math.min((await decodeServeClientHello(c2s)).clientVersion, SERVE_PROTOCOL_VERSION);
    await decodeServeServerHello(s2c);
    for (let req = await decodeServeRequest(c2s, v); req !== undefined; req = await decodeServeRequest(c2s, v)) {
      const reply = await decodeServeReply(s2c, req, v);
      if (req.cmd === 'QueryValidPaths') queried = req.paths;
      if (req.cmd === 'BuildDerivation' && reply.cmd === 'BuildDerivation') out.push({ drvPath: req.drvPath, derivation: req.derivation, queried, result: reply.result });
    }
  } else {
    await decodeWorkerClientMagic(c2s);
    const v = Math.min(await decodeWorkerClientVersion(c2s), WORKER_PROTOCOL_VERSION);
    await decodeWorkerClientSettings(c2s, v);
    await decodeWorkerServerHello(s2c);
    await decodeWorkerServerInfo(s2c, v);
    await readStderrPhase(s2c, v);
    for (let req = await decodeWorkerRequest(c2s, v); req !== undefined; req = await decodeWorkerRequest(c2s, v)) {
      const { reply } = await decodeWorkerResponse(s2c, req, v);
      if (req.op === 'QueryValidPaths') queried = req.paths;
      if (req.op === 'BuildDerivation' && reply?.op === 'BuildDerivation') out.push({ drvPath: req.drvPath, derivation: req.derivation, queried, result: reply.result });
    }
  }
  return out;
}

/** The 17 sessions the vectors README describes, spelled out so a missing or extra file fails. */
const EXPECTED_TRANSCRIPTS = [
  'transcripts/serve-copy-from.json',
  'transcripts/serve-copy-to.json',
  'transcripts/serve-direct-session.json',
  'transcripts/serve-offload-1.json',
  'transcripts/serve-offload-2.json',
  'transcripts/serve-offload-aarch64.json',
  'transcripts/serve-offload-fail.json',
  'transcripts/serve-offload-nix-build.json',
  'transcripts/serve-offload-via-fake-ssh.json',
  'transcripts/worker-copy-from.json',
  'transcripts/worker-copy-to.json',
  'transcripts/worker-direct-session.json',
  'transcripts/worker-offload-1.json',
  'transcripts/worker-offload-2.json',
  'transcripts/worker-offload-aarch64.json',
  'transcripts/worker-offload-fail.json',
  'transcripts/worker-offload-via-fake-ssh.json',
];

test('transcripts/index.json lists every transcript file exactly once, with its ops', () => {
  const index = transcriptIndex();
  const listed = index.map((e) => e.file).sort();
  assert.deepEqual(listed, EXPECTED_TRANSCRIPTS);
  assert.deepEqual(transcriptFiles(), EXPECTED_TRANSCRIPTS, 'no transcript file outside the index');
  for (const e of index) {
    const t = loadTranscript(e.file);
    assert.equal(t.protocol, e.protocol, e.file);
    assert.deepEqual(
      t.exchanges.map((x) => x.op),
      e.ops,
      e.file,
    );
  }
});

const offloadFiles = transcriptFiles().filter((f) => loadTranscript(f).clientDrvFiles !== undefined);

test('every offload transcript carries the client .drv files', () => {
  assert.equal(offloadFiles.length, 11);
});

for (const file of offloadFiles) {
  test(`${file}: BasicDerivation on the wire = client .drv minus inputDrvs, inputSrcs = queried input closure; DrvOutput ids = hashDerivationModulo as received`, async () => {
    const drvFiles = loadTranscript(file).clientDrvFiles!;
    const parsed = new Map(Object.entries(drvFiles).map(([p, aterm]) => [p, parseDerivation(aterm)]));
    const resolve = (p: string): Derivation => {
      const d = parsed.get(p);
      if (d === undefined) throw new Error(`no client drv ${p}`);
      return d;
    };
    const offloads = await offloadsOf(file);
    assert.ok(offloads.length > 0, 'the transcript has a BuildDerivation');
    for (const o of offloads) {
      const drv = resolve(o.drvPath);
      const wire = o.derivation;
      assert.deepEqual(wire.outputs, drv.outputs);
      assert.equal(wire.system, drv.system);
      assert.equal(wire.builder, drv.builder);
      assert.deepEqual(wire.args, drv.args);
      assert.deepEqual(wire.env, drv.env);
      if (drv.inputDrvs.size === 0) {
        assert.deepEqual(wire.inputSrcs, drv.inputSrcs, 'no inputDrvs: the original inputSrcs are sent');
      } else {
        const expectedInputs = new Set(drv.inputSrcs);
        for (const [inputDrv, outputs] of drv.inputDrvs) for (const name of outputs) expectedInputs.add(resolve(inputDrv).outputs.get(name)!.path);
        for (const p of expectedInputs) assert.ok(wire.inputSrcs.includes(p), `inputSrcs contains ${p}`);
        assert.deepEqual([...wire.inputSrcs], [...o.queried], 'inputSrcs is the closure the hook queried');
      }

      const asReceived: Derivation = { ...wire, inputDrvs: new Map() };
      const received = await hashDerivationModulo(asReceived, true, resolve);
      const client = await hashDerivationModulo(drv, true, resolve);
      assert.equal(o.result.builtOutputs.length > 0, isBuildSuccess(o.result.status), 'successful builds report their outputs');
      for (const out of o.result.builtOutputs) {
        const name = out.id.slice(out.id.indexOf('!') + 1);
        assert.equal(out.id, drvOutputId(received.hashes.get(name)!, name));
        const realisation = JSON.parse(out.realisation) as { id: string; outPath: string };
        assert.equal(realisation.id, out.id);
        assert.equal(`/nix/store/${realisation.outPath}`, drv.outputs.get(name)!.path);
        const clientId = drvOutputId(client.hashes.get(name)!, name);
        if (drv.inputDrvs.size === 0) assert.equal(out.id, clientId);
        else assert.notEqual(out.id, clientId);
      }
    }
  });
}
