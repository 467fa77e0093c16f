/**
 * Every worker transcript, decoded byte for byte from both ends (see serve-transcripts.test.ts):
 * the server side decodes the handshake and every op to EOF; the client side decodes the
 * handshake, then per request the STDERR_* messages and the reply (or the STDERR_ERROR that
 * replaces it). Decoded values must equal the transcript's objects, occupy exactly the recorded
 * spans and re-encode to the same bytes. worker-direct-session includes a mid-session
 * STDERR_ERROR after which the session continues, and a fatal one sent twice.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import {
  WORKER_PROTOCOL_VERSION,
  WorkerOp,
  type StderrMessage,
  type WirePathInfoFields,
  type WorkerReply,
  type WorkerRequest,
  type WorkerResponse,
  WireWriter,
  protocolVersion,
  writePathInfo,
  decodeStderr,
  decodeWorkerClientMagic,
  decodeWorkerClientSettings,
  decodeWorkerClientVersion,
  decodeWorkerRequest,
  decodeWorkerResponse,
  decodeWorkerServerHello,
  decodeWorkerServerInfo,
  encodeStderr,
  encodeWorkerClientMagic,
  encodeWorkerClientSettings,
  encodeWorkerClientVersion,
  encodeWorkerRequest,
  encodeWorkerResponse,
  encodeWorkerServerHello,
  encodeWorkerServerInfo,
  negotiateVersion,
  readStderrPhase,
} from '../src/index.js';
import { b64, buildResultShape, derivationShape, flag, frameSizes, hex, loadTranscript, narSummary, readerOver, rest, transcriptIndex, withoutNarEntries } from './transcripts.js';

const numberOf = (v: bigint): number => Number(v);

export function stderrShape(m: StderrMessage): unknown {
  const fields = (fs: readonly { type: 'int' | 'string'; value: bigint | string }[]): unknown[] =>
    fs.map((f) => (f.type === 'int' ? { int: numberOf(f.value as bigint) } : { string: f.value }));
  switch (m.type) {
    case 'last':
      return { msg: 'STDERR_LAST' };
    case 'next':
      return { msg: 'STDERR_NEXT', text: m.text };
    case 'read':
      return { msg: 'STDERR_READ', length: m.length };
    case 'write':
      return { msg: 'STDERR_WRITE', dataBase64: Buffer.from(m.data).toString('base64') };
    case 'error':
      return { msg: 'STDERR_ERROR', type: m.error.errorType, level: m.error.level, name: m.error.name, message: m.error.message, havePos: 0, traces: [...m.error.traces] };
    case 'startActivity':
      return { msg: 'STDERR_START_ACTIVITY', id: numberOf(m.id), level: m.level, type: m.activityType, text: m.text, fields: fields(m.fields), parent: numberOf(m.parent) };
    case 'stopActivity':
      return { msg: 'STDERR_STOP_ACTIVITY', id: numberOf(m.id) };
    case 'result':
      return { msg: 'STDERR_RESULT', id: numberOf(m.id), type: m.resultType, fields: fields(m.fields) };
  }
}

function infoFieldsShape(i: WirePathInfoFields): Record<string, unknown> {
  return {
    deriver: i.deriver,
    narHash: i.narHash,
    references: [...i.references],
    registrationTime: i.registrationTime,
    narSize: i.narSize,
    ultimate: flag(i.ultimate),
    sigs: [...i.sigs],
    ca: i.ca,
  };
}

export function workerRequestShape(req: WorkerRequest): unknown {
  const op = WorkerOp[req.op];
  switch (req.op) {
    case 'IsValidPath':
    case 'EnsurePath':
    case 'AddTempRoot':
    case 'QueryPathInfo':
    case 'NarFromPath':
    case 'QueryDerivationOutputMap':
      return { op, path: req.path };
    case 'QueryPathFromHashPart':
      return { op, hashPart: req.hashPart };
    case 'SetOptions': {
      const o = req.options;
      return {
        op,
        keepFailed: flag(o.keepFailed),
        keepGoing: flag(o.keepGoing),
        tryFallback: flag(o.tryFallback),
        verbosity: o.verbosity,
        maxBuildJobs: o.maxBuildJobs,
        maxSilentTime: o.maxSilentTime,
        'useBuildHook(obsolete)': flag(o.useBuildHook),
        verboseBuild: o.verboseBuild,
        'logType(obsolete)': o.logType,
        'printBuildTrace(obsolete)': o.printBuildTrace,
        buildCores: o.buildCores,
        useSubstitutes: flag(o.useSubstitutes),
        overrides: Object.fromEntries(o.overrides),
      };
    }
    case 'QueryValidPaths':
      return { op, paths: [...req.paths], substitute: flag(req.substitute) };
    case 'AddToStore':
      return { op, name: req.name, camStr: req.camStr, references: [...req.references], repair: flag(req.repair), framedSizes: frameSizes(req.data.length), dumpBase64: Buffer.from(req.data).toString('base64') };
    case 'AddTextToStore':
      return { op, name: req.name, contents: req.contents, references: [...req.references] };
    case 'BuildPaths':
    case 'BuildPathsWithResults':
      return { op, derivedPaths: [...req.derivedPaths], buildMode: req.buildMode };
    case 'QueryMissing':
      return { op, derivedPaths: [...req.derivedPaths] };
    case 'BuildDerivation':
      return { op, drvPath: req.drvPath, derivation: derivationShape(req.derivation), buildMode: req.buildMode };
    case 'AddToStoreNar':
      return {
        op,
        path: req.info.path,
        ...infoFieldsShape(req.info),
        repair: flag(req.repair),
        dontCheckSigs: flag(req.dontCheckSigs),
        framedSizes: frameSizes(req.nar.length),
        nar: narSummary(req.nar),
      };
    case 'AddMultipleToStore': {
      return {
        op,
        repair: flag(req.repair),
        dontCheckSigs: flag(req.dontCheckSigs),
        framedSizes: frameSizes(multiplePayloadSize(req)),
        count: req.items.length,
        items: req.items.map((it) => ({ path: it.info.path, ...infoFieldsShape(it.info), nar: narSummary(it.nar) })),
      };
    }
    case 'RegisterDrvOutput':
      return 'realisation' in req ? { op, realisation: req.realisation } : { op, id: req.id, outPath: req.outPath };
    case 'QueryRealisation':
      return { op, id: req.id };
    case 'AddBuildLog':
      return { op, drvPath: req.drvBaseName, framedSizes: frameSizes(req.log.length) };
    case 'AddPermRoot':
      return { op, path: req.path, gcRoot: req.gcRoot };
  }
}

/** Size of AddMultipleToStore's framed payload: count, then each full path info and its NAR. */
function multiplePayloadSize(req: WorkerRequest & { op: 'AddMultipleToStore' }): number {
  const w = new WireWriter().u64(req.items.length);
  for (const it of req.items) {
    writePathInfo(w, it.info, protocolVersion(1, 16));
    w.raw(it.nar);
  }
  return w.length;
}

function replyShape(reply: WorkerReply): Record<string, unknown> {
  switch (reply.op) {
    case 'IsValidPath':
      return { valid: flag(reply.valid) };
    case 'BuildPaths':
    case 'EnsurePath':
    case 'AddTempRoot':
    case 'AddSignatures':
    case 'AddBuildLog':
      return { result: reply.result };
    case 'SetOptions':
    case 'AddToStoreNar':
    case 'AddMultipleToStore':
    case 'RegisterDrvOutput':
      return {};
    case 'AddToStore': {
      const { path, ...fields } = reply.info;
      return { path, info: infoFieldsShape(fields) };
    }
    case 'AddTextToStore':
    case 'QueryPathFromHashPart':
      return { path: reply.path };
    case 'AddPermRoot':
      return { gcRoot: reply.gcRoot };
    case 'QueryPathInfo':
      return reply.info === undefined ? { valid: 0 } : { valid: 1, info: infoFieldsShape(reply.info) };
    case 'QueryValidPaths':
      return { paths: [...reply.paths] };
    case 'BuildDerivation':
      return buildResultShape(reply.result);
    case 'NarFromPath':
      return { nar: narSummary(reply.nar) };
    case 'QueryMissing':
      return { willBuild: [...reply.willBuild], willSubstitute: [...reply.willSubstitute], unknown: [...reply.unknown], downloadSize: reply.downloadSize, narSize: reply.narSize };
    case 'QueryDerivationOutputMap':
      return { outputMap: Object.fromEntries(reply.outputs) };
    case 'QueryRealisation':
      return { realisations: [...reply.values] };
    case 'BuildPathsWithResults':
      return { results: reply.results.map(({ path, result }) => ({ derivedPath: path, ...buildResultShape(result) })) };
  }
}

export function workerResponseShape(r: WorkerResponse): unknown {
  return { stderr: r.stderr.map(stderrShape), ...(r.reply === undefined ? {} : replyShape(r.reply)) };
}

export interface DecodedWorkerSession {
  version: number;
  requests: WorkerRequest[];
  responses: WorkerResponse[];
  trailing: StderrMessage[];
}

export async function checkWorkerTranscript(file: string, pieces = 1): Promise<DecodedWorkerSession> {
  const t = loadTranscript(file);
  const c2s = b64(t.c2sBase64);
  const s2c = b64(t.s2cBase64);
  const [hello, ...exchanges] = t.exchanges;
  assert.ok(hello !== undefined && hello.op === 'handshake', `${file}: first exchange is the handshake`);

  // Server side.
  const server = readerOver(c2s, pieces);
  await decodeWorkerClientMagic(server);
  const clientVersion = await decodeWorkerClientVersion(server);
  const version = negotiateVersion(clientVersion, WORKER_PROTOCOL_VERSION);
  const settings = await decodeWorkerClientSettings(server, version);
  assert.deepEqual(
    { magic: '0x6e697863', clientVersion: `0x${clientVersion.toString(16)}`, cpuAffinityFlag: settings.cpuAffinity === undefined ? 0 : 1, reserveSpace: flag(settings.reserveSpace) },
    hello.request,
  );
  assert.equal(hex(c2s.subarray(0, server.offset)), hello.requestHex);
  assert.equal(hex([...encodeWorkerClientMagic(), ...encodeWorkerClientVersion(clientVersion), ...encodeWorkerClientSettings(settings, version)]), hello.requestHex);

  const requests: WorkerRequest[] = [];
  for (;;) {
    const start = server.offset;
    const req = await decodeWorkerRequest(server, version);
    if (req === undefined) break;
    const ex = exchanges[requests.length];
    assert.ok(ex !== undefined, `${file}: more requests than exchanges`);
    const where = `${file} request #${requests.length + 1} (${ex.op})`;
    assert.equal(req.op, ex.op, where);
    assert.equal(hex(c2s.subarray(start, server.offset)), ex.requestHex, `${where}: consumed span`);
    assert.equal(hex(encodeWorkerRequest(req, version)), ex.requestHex, `${where}: re-encoding`);
    assert.deepEqual(workerRequestShape(req), withoutNarEntries(ex.request), `${where}: decoded value`);
    requests.push(req);
  }
  assert.equal(requests.length, exchanges.length, `${file}: every exchange has a request`);
  assert.equal(server.offset, c2s.length, `${file}: every client byte consumed`);

  // Client side.
  const client = readerOver(s2c, pieces);
  const serverVersion = await decodeWorkerServerHello(client);
  assert.equal(negotiateVersion(clientVersion, serverVersion), version);
  const info = await decodeWorkerServerInfo(client, version);
  const startup = await readStderrPhase(client, version);
  assert.equal(startup.error, undefined);
  assert.deepEqual(
    { magic: '0x6478696f', serverVersion: `0x${serverVersion.toString(16)}`, nixVersion: info.nixVersion, stderr: startup.messages.map(stderrShape) },
    hello.response,
  );
  assert.equal(hex(s2c.subarray(0, client.offset)), hello.responseHex);
  assert.equal(
    hex([...encodeWorkerServerHello(serverVersion), ...encodeWorkerServerInfo(info, version), ...startup.messages.flatMap((m) => encodeStderr(m, version))]),
    hello.responseHex,
  );

  const responses: WorkerResponse[] = [];
  for (const [i, req] of requests.entries()) {
    const ex = exchanges[i]!;
    const where = `${file} response #${i + 1} (${ex.op})`;
    const start = client.offset;
    const response = await decodeWorkerResponse(client, req, version);
    assert.equal(hex(s2c.subarray(start, client.offset)), ex.responseHex, `${where}: consumed span`);
    assert.equal(hex(encodeWorkerResponse(response, version)), ex.responseHex, `${where}: re-encoding`);
    assert.deepEqual(workerResponseShape(response), withoutNarEntries(ex.response), `${where}: decoded value`);
    responses.push(response);
  }

  // Anything after the last response: Nix 2.8 repeats a fatal STDERR_ERROR before closing.
  const trailingStart = client.offset;
  const trailing: StderrMessage[] = [];
  while (!(await client.atEnd())) trailing.push(await decodeStderr(client, version));
  assert.equal(hex(s2c.subarray(trailingStart)), t.unparsedServerBytesHex, `${file}: trailing server bytes`);
  assert.equal(hex(await rest(client)), '');
  return { version, requests, responses, trailing };
}

for (const entry of transcriptIndex().filter((e) => e.protocol === 'worker')) {
  test(`worker transcript ${entry.file}: both directions decode, match and re-encode byte for byte`, async () => {
    const session = await checkWorkerTranscript(entry.file);
    assert.deepEqual(['handshake', ...session.requests.map((r) => r.op)], entry.ops);
    assert.ok(session.trailing.every((m) => m.type === 'error'), 'only a repeated fatal error may follow the last response');
  });
}

test('worker-direct-session: STDERR_ERROR mid-session keeps the connection usable; the fatal error is sent twice', async () => {
  const s = await checkWorkerTranscript('transcripts/worker-direct-session.json');
  const errors = s.responses.map((r, i) => [i, r] as const).filter(([, r]) => r.error !== undefined);
  assert.equal(errors.length, 2);
  const [mid, fatal] = errors;
  assert.equal(s.requests[mid![0]]!.op, 'BuildPaths');
  assert.match(mid![1].error!.message, /failed with exit code 3;\nlast 2 log lines:\n> about to fail\n> oops\n/);
  assert.equal(s.requests[mid![0] + 1]!.op, 'IsValidPath', 'the next op after the error is answered normally');
  assert.deepEqual(s.responses[mid![0] + 1]!.reply, { op: 'IsValidPath', valid: true });
  assert.equal(fatal![0], s.requests.length - 1, 'the fatal error answers the last request');
  assert.equal(s.requests[fatal![0]]!.op, 'QueryPathInfo');
  assert.equal(fatal![1].error!.message, "path '\x1b[35;1m/tmp/not-a-store-path\x1b[0m' is not in the Nix store");
  assert.equal(s.trailing.length, 1);
  assert.deepEqual(s.trailing[0], { type: 'error', error: fatal![1].error });
});

test('worker transcripts decode the same when the bytes arrive in small uneven chunks', async () => {
  for (const file of ['transcripts/worker-direct-session.json', 'transcripts/worker-offload-2.json']) {
    await checkWorkerTranscript(file, 89);
  }
});
