/**
 * The operator HTTP endpoint: routes by exact path and by pattern, 404/405 as JSON, a failing
 * handler answered 500 without harm to the server, malformed HTTP answered 400, and close()
 * ending long-lived (server-sent event) responses.
 */
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { request } from 'node:http';
import { connect } from 'node:net';
import { silentLogger } from '@farm/common';
import { sendJson, startOpsServer, type OpsRoute, type RunningOpsServer } from '../src/adapters/http-ops/ops-server.js';

let streamAborted: Promise<void>;
let markAborted: () => void;
const routes: OpsRoute[] = [
  { path: '/hello', handle: ({ res }) => sendJson(res, 200, { hello: 'world' }) },
  { path: /^\/jobs\/([a-z0-9]+)$/, handle: ({ res, match }) => sendJson(res, 200, { job: match?.[1] }) },
  { path: '/post-only', methods: ['POST'], handle: ({ res }) => sendJson(res, 200, {}) },
  {
    path: '/boom',
    handle: () => {
      throw new Error('handler failed');
    },
  },
  {
    path: '/stream',
    handle: ({ res, signal }) => {
      res.writeHead(200, { 'content-type': 'text/event-stream' });
      res.write('data: first\n\n');
      signal.addEventListener('abort', () => markAborted());
    },
  },
];
let ops: RunningOpsServer;

function get(path: string, method = 'GET'): Promise<{ status: number; body: string; headers: Record<string, unknown> }> {
  return new Promise((resolve, reject) => {
    const req = request(`${ops.url}${path}`, { method }, (res) => {
      let body = '';
      res.on('data', (c: Buffer) => (body += c.toString()));
      res.on('end', () => resolve({ status: res.statusCode ?? 0, body, headers: res.headers }));
    });
    req.on('error', reject);
    req.end();
  });
}

before(async () => {
  streamAborted = new Promise((r) => (markAborted = r));
  ops = await startOpsServer({ routes, logger: silentLogger() }, '127.0.0.1:0');
});

after(async () => {
  await ops?.close();
});

test('routes by exact path and by pattern, as JSON', async () => {
  assert.deepEqual(JSON.parse((await get('/hello')).body), { hello: 'world' });
  assert.deepEqual(JSON.parse((await get('/jobs/abc123?x=1')).body), { job: 'abc123' });
});

test('unknown paths are 404 and other methods 405, with a JSON error naming them', async () => {
  const missing = await get('/nope');
  assert.equal(missing.status, 404);
  assert.match(JSON.parse(missing.body).error.message, /\/nope/);
  const wrong = await get('/post-only');
  assert.equal(wrong.status, 405);
  assert.equal(wrong.headers['allow'], 'POST');
});

test('a failing handler is a 500 and the server goes on', async () => {
  assert.equal((await get('/boom')).status, 500);
  assert.equal((await get('/hello')).status, 200);
});

test('malformed HTTP is answered 400', async () => {
  const port = Number(new URL(ops.url).port);
  const reply = await new Promise<string>((resolve, reject) => {
    const s = connect(port, '127.0.0.1', () => s.write('\x00\x01garbage\r\n\r\n'));
    let got = '';
    s.on('data', (c: Buffer) => (got += c.toString()));
    s.on('close', () => resolve(got));
    s.on('error', reject);
  });
  assert.match(reply, /^HTTP\/1\.1 400/);
});

test('close() ends a long-lived response and aborts its signal', async () => {
  const first = await new Promise<string>((resolve, reject) => {
    request(`${ops.url}/stream`, (res) => res.once('data', (c: Buffer) => resolve(c.toString())))
      .on('error', () => undefined)
      .on('error', reject)
      .end();
  });
  assert.equal(first, 'data: first\n\n');
  await ops.close();
  await streamAborted;
});
