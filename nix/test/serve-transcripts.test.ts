/**
 * Every serve transcript, decoded byte for byte from both ends: the client→server stream as a
 * server would (handshake, then commands to EOF) and the server→client stream as a client would
 * (driven by the decoded requests). Each decoded message must equal the transcript's decoded
 * object, occupy exactly its requestHex/responseHex span, and re-encode to the same bytes.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import {
  SERVE_PROTOCOL_VERSION,
  type ServeReply,
  type ServeRequest,
  type ExportedPath,
  type ServePathInfo,
  decodeServeClientHello,
  decodeServeReply,
  decodeServeRequest,
  decodeServeServerHello,
  encodeServeClientHello,
  encodeServeReply,
  encodeServeRequest,
  encodeServeServerHello,
  negotiateVersion,
  ServeCommand,
} from '../src/index.js';
import {
  b64,
  buildResultShape,
  buildSettingsShape,
  derivationShape,
  flag,
  hex,
  loadTranscript,
  narSummary,
  readerOver,
  rest,
  transcriptIndex,
  withoutNarEntries,
} from './transcripts.js';

function exportShape(paths: readonly ExportedPath[]): unknown {
  return paths.map((p) => ({ nar: narSummary(p.nar), path: p.path, references: [...p.references], deriver: p.deriver, legacySignatureFlag: p.legacySignature === undefined ? 0 : 1 }));
}

export function serveRequestShape(req: ServeRequest): unknown {
  const cmd = ServeCommand[req.cmd];
  switch (req.cmd) {
    case 'QueryValidPaths':
      return { cmd, lock: flag(req.lock), substitute: flag(req.substitute), paths: [...req.paths] };
    case 'QueryPathInfos':
      return { cmd, paths: [...req.paths] };
    case 'DumpStorePath':
      return { cmd, path: req.path };
    case 'ImportPaths':
      return { cmd, exportStream: exportShape(req.paths) };
    case 'ExportPaths':
      return { cmd, obsolete: flag(req.sign), paths: [...req.paths] };
    case 'BuildPaths':
      return { cmd, paths: [...req.paths], buildSettings: buildSettingsShape(req.settings) };
    case 'QueryClosure':
      return { cmd, includeOutputs: flag(req.includeOutputs), paths: [...req.paths] };
    case 'BuildDerivation':
      return { cmd, drvPath: req.drvPath, derivation: derivationShape(req.derivation), buildSettings: buildSettingsShape(req.settings) };
    case 'AddToStoreNar': {
      const i = req.info;
      return {
        cmd,
        path: i.path,
        deriver: i.deriver,
        narHash: i.narHash,
        references: [...i.references],
        registrationTime: i.registrationTime,
        narSize: i.narSize,
        ultimate: flag(i.ultimate),
        sigs: [...i.sigs],
        ca: i.ca,
        nar: narSummary(req.nar),
      };
    }
  }
}

function infoShape(i: ServePathInfo): unknown {
  return { path: i.path, deriver: i.deriver, references: [...i.references], downloadSize: i.downloadSize, narSize: i.narSize, narHash: i.narHash, ca: i.ca, sigs: [...i.sigs] };
}

export function serveReplyShape(reply: ServeReply): unknown {
  switch (reply.cmd) {
    case 'QueryValidPaths':
      return { validPaths: [...reply.paths] };
    case 'QueryClosure':
      return { closure: [...reply.paths] };
    case 'QueryPathInfos':
      return { infos: reply.infos.map(infoShape), terminator: '' };
    case 'DumpStorePath':
      return { nar: narSummary(reply.nar) };
    case 'ImportPaths':
    case 'AddToStoreNar':
      return { success: reply.result };
    case 'ExportPaths':
      return { exportStream: exportShape(reply.paths) };
    case 'BuildPaths':
      return reply.status === 0 ? { status: 0 } : { status: reply.status, errorMsg: reply.errorMsg };
    case 'BuildDerivation':
      return buildResultShape(reply.result);
  }
}

export interface DecodedServeSession {
  version: number;
  requests: ServeRequest[];
  replies: Array<ServeReply | undefined>;
}

/** Decodes and checks one serve transcript completely; returns the decoded session. */
export async function checkServeTranscript(file: string, pieces = 1): Promise<DecodedServeSession> {
  const t = loadTranscript(file);
  const c2s = b64(t.c2sBase64);
  const s2c = b64(t.s2cBase64);
  const [hello, ...exchanges] = t.exchanges;
  assert.ok(hello !== undefined && hello.op === 'handshake', `${file}: first exchange is the handshake`);

  // Server side: handshake then commands until EOF.
  const server = readerOver(c2s, pieces);
  const clientHello = await decodeServeClientHello(server);
  assert.deepEqual({ magic: '0x390c9deb', clientVersion: `0x${clientHello.clientVersion.toString(16)}` }, hello.request);
  assert.equal(hex(c2s.subarray(0, server.offset)), hello.requestHex);
  assert.equal(hex(encodeServeClientHello(clientHello)), hello.requestHex);
  const version = negotiateVersion(clientHello.clientVersion, SERVE_PROTOCOL_VERSION);

  const requests: ServeRequest[] = [];
  for (;;) {
    const start = server.offset;
    const req = await decodeServeRequest(server, version);
    if (req === undefined) break;
    const ex = exchanges[requests.length];
    assert.ok(ex !== undefined, `${file}: more requests than exchanges`);
    const where = `${file} request #${requests.length + 1} (${ex.op})`;
    assert.equal(req.cmd, ex.op, where);
    assert.equal(hex(c2s.subarray(start, server.offset)), ex.requestHex, `${where}: consumed span`);
    assert.equal(hex(encodeServeRequest(req, version)), ex.requestHex, `${where}: re-encoding`);
    assert.deepEqual(serveRequestShape(req), withoutNarEntries(ex.request), `${where}: decoded value`);
    requests.push(req);
  }
  assert.equal(requests.length, exchanges.length, `${file}: every exchange has a request`);
  assert.equal(server.offset, c2s.length, `${file}: every client byte consumed`);

  // Client side: the server's hello, then one reply per request.
  const client = readerOver(s2c, pieces);
  const serverHello = await decodeServeServerHello(client);
  assert.deepEqual({ magic: '0x5452eecb', serverVersion: `0x${serverHello.serverVersion.toString(16)}` }, hello.response);
  assert.equal(hex(s2c.subarray(0, client.offset)), hello.responseHex);
  assert.equal(hex(encodeServeServerHello(serverHello)), hello.responseHex);
  assert.equal(negotiateVersion(clientHello.clientVersion, serverHello.serverVersion), version);

  const replies: Array<ServeReply | undefined> = [];
  for (const [i, req] of requests.entries()) {
    const ex = exchanges[i]!;
    const where = `${file} reply #${i + 1} (${ex.op})`;
    if (ex.response.connectionClosedByServer === true) {
      // No in-band errors in the serve protocol: the server just exits.
      assert.equal(ex.responseHex, '', where);
      assert.equal(await client.atEnd(), true, `${where}: stream ends`);
      replies.push(undefined);
      continue;
    }
    const start = client.offset;
    const reply = await decodeServeReply(client, req, version);
    assert.equal(hex(s2c.subarray(start, client.offset)), ex.responseHex, `${where}: consumed span`);
    assert.equal(hex(encodeServeReply(reply, version)), ex.responseHex, `${where}: re-encoding`);
    assert.deepEqual(serveReplyShape(reply), withoutNarEntries(ex.response), `${where}: decoded value`);
    replies.push(reply);
  }
  assert.equal(hex(await rest(client)), t.unparsedServerBytesHex, `${file}: trailing server bytes`);
  return { version, requests, replies };
}

for (const entry of transcriptIndex().filter((e) => e.protocol === 'serve')) {
  test(`serve transcript ${entry.file}: both directions decode, match and re-encode byte for byte`, async () => {
    const session = await checkServeTranscript(entry.file);
    assert.deepEqual(['handshake', ...session.requests.map((r) => r.cmd)], entry.ops);
  });
}

test('serve transcripts decode the same when the bytes arrive in small uneven chunks', async () => {
  for (const file of ['transcripts/serve-direct-session.json', 'transcripts/serve-offload-2.json']) {
    await checkServeTranscript(file, 97);
  }
});
