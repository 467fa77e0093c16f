/**
 * NarTransfer over real gRPC loopback against the fake coordinator: GetNar streams and errors
 * keep the server's farm error code; AddPath sends the header then ≤ 1 MiB NAR chunks (with
 * back-pressure on a multi-MiB output), a stale lease is FAILED_PRECONDITION "stale lease", a
 * tree that no longer matches its announced hash is never completed, an abort cancels.
 */
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { isFarmError } from '@farm/common';
import { dumpNarToBuffer } from '@farm/nix';
import type { PathInfo } from '@farm/proto';
import { makeTempDir, startNatsServer, type NatsServer, type TempDir } from '@farm/testkit';
import { MAX_NAR_CHUNK, NarTransfer } from '../src/index.js';
import { fakeStorePath } from './fixtures/build-helpers.js';
import { FakeCoordinator } from './fixtures/fake-coordinator.js';

let nats: NatsServer;
let fake: FakeCoordinator;
let transfer: NarTransfer;
let tmp: TempDir;

before(async () => {
  tmp = await makeTempDir();
  nats = await startNatsServer();
  fake = await FakeCoordinator.start({ natsUrl: nats.url });
  transfer = NarTransfer.connect(fake.grpcAddress);
});
after(async () => {
  transfer?.close();
  await fake?.close();
  await nats?.stop();
  await tmp?.remove();
});

function tree(name: string, files: Record<string, Buffer | string>): { dir: string; info: PathInfo; nar: Buffer } {
  const dir = join(tmp.path, name);
  mkdirSync(dir);
  for (const [f, c] of Object.entries(files)) writeFileSync(join(dir, f), c);
  const { nar, narHash, narSize } = dumpNarToBuffer(dir);
  return { dir, nar, info: { path: fakeStorePath(name), narHash: narHash.toPrefixed('nix32'), narSize: String(narSize), references: [], deriver: '', ca: '' } };
}

async function collect(it: AsyncIterable<Uint8Array>): Promise<Buffer> {
  const parts: Buffer[] = [];
  for await (const c of it) parts.push(Buffer.from(c));
  return Buffer.concat(parts);
}

test('GetNar returns the NAR bytes in order', async () => {
  const t = tree('get-me', { a: randomBytes(300_000) });
  fake.addNar(String(t.info.path), t.nar);
  assert.ok((await collect(transfer.getNar(String(t.info.path)))).equals(t.nar));
});

test('GetNar of an unknown path is NOT_FOUND with the server message', async () => {
  await assert.rejects(collect(transfer.getNar(fakeStorePath('nope'))), (e) => isFarmError(e, 'NOT_FOUND') && /not valid in the farm store/.test(e.message));
});

test('GetNar aborted by its signal stops with the abort reason', async () => {
  const t = tree('aborted-get', { a: randomBytes(2_000_000) });
  fake.addNar(String(t.info.path), t.nar);
  const ac = new AbortController();
  const reason = new Error('revoked');
  await assert.rejects(
    (async () => {
      for await (const _ of transfer.getNar(String(t.info.path), ac.signal)) ac.abort(reason);
    })(),
    (e) => e === reason,
  );
});

test('AddPath uploads a multi-MiB output as header + chunks of at most 1 MiB, verified by the receiver', async () => {
  const t = tree('big-output', { a: randomBytes(3 * 1024 * 1024 + 12345), b: 'small\n' });
  fake.currentEpoch.set('job-big', '2');
  const res = await transfer.addPath({ info: t.info, lease: { jobId: 'job-big', epoch: '2' }, localPath: t.dir });
  assert.deepEqual(res, { alreadyValid: false });
  const up = fake.uploads.find((u) => u.info.path === t.info.path);
  assert.ok(up !== undefined);
  assert.ok(up.nar.equals(t.nar));
  assert.deepEqual(up.lease, { jobId: 'job-big', epoch: '2' });
  assert.ok(up.chunkSizes.length >= 4);
  assert.ok(up.chunkSizes.every((n) => n > 0 && n <= MAX_NAR_CHUNK));
});

test('AddPath without a lease is a client upload', async () => {
  const t = tree('client-upload', { x: 'x' });
  await transfer.addPath({ info: t.info, localPath: t.dir });
  assert.equal(fake.uploads.find((u) => u.info.path === t.info.path)?.lease, null);
});

test('AddPath under a stale lease is FAILED_PRECONDITION "stale lease"', async () => {
  const t = tree('stale', { a: randomBytes(2 * 1024 * 1024) });
  fake.currentEpoch.set('job-stale', '7');
  await assert.rejects(transfer.addPath({ info: t.info, lease: { jobId: 'job-stale', epoch: '6' }, localPath: t.dir }), (e) => isFarmError(e, 'FAILED_PRECONDITION') && /stale lease/.test(e.message));
  assert.equal(fake.uploads.some((u) => u.info.path === t.info.path), false);
});

test('a tree that no longer matches its announced NAR hash is never completed', async () => {
  const t = tree('changed', { a: 'before' });
  writeFileSync(join(t.dir, 'a'), 'after!'); // same size, other bytes
  await assert.rejects(transfer.addPath({ info: t.info, localPath: t.dir }), (e) => isFarmError(e, 'FAILED_PRECONDITION') && /changed on disk/.test(e.message));
  assert.equal(fake.uploads.some((u) => u.info.path === t.info.path), false);
});

test('AddPath aborted by its signal rejects with the reason and uploads nothing', async () => {
  const t = tree('aborted-add', { a: randomBytes(1024) });
  const ac = new AbortController();
  const reason = new Error('fenced');
  ac.abort(reason);
  await assert.rejects(transfer.addPath({ info: t.info, localPath: t.dir, signal: ac.signal }), (e) => e === reason);
  assert.equal(fake.uploads.some((u) => u.info.path === t.info.path), false);
});
