/**
 * The shared LMDB helper on real files: named sub-databases with their encodings, one
 * transaction spanning databases (all or nothing), reopen, and the bigint-safe path info record.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { sha256, type PathInfo } from '@farm/nix';
import { openLmdbEnv, pathInfoToRecord, recordToPathInfo } from '../src/index.js';

const DATABASES = { jobs: 'msgpack', blobs: 'binary', names: 'string' } as const;

test('named databases keep their encodings, transactions are atomic across them, data survives reopen', async () => {
  const dir = await mkdtemp(join(tmpdir(), 'farm-lmdb-'));
  const file = join(dir, 'sub', 'state.mdb');
  try {
    let env = openLmdbEnv({ file, databases: DATABASES });
    await env.transaction(() => {
      env.dbs.jobs.put('j1', { state: 'queued', epoch: 2n ** 60n + 1n, tags: ['a'] });
      env.dbs.blobs.put('b1', Buffer.from([0, 1, 2, 255]));
      env.dbs.names.put('n1', 'plain text');
    });
    await assert.rejects(
      env.transaction(() => {
        env.dbs.jobs.put('j2', { state: 'never' });
        env.dbs.names.put('n2', 'never');
        throw new Error('abort this transaction');
      }),
      /abort this transaction/,
    );
    await env.close();
    await env.close(); // idempotent

    env = openLmdbEnv({ file, databases: DATABASES });
    try {
      assert.deepEqual(env.dbs.jobs.get('j1'), { state: 'queued', epoch: 2n ** 60n + 1n, tags: ['a'] });
      assert.deepEqual([...env.dbs.blobs.get('b1')], [0, 1, 2, 255]);
      assert.equal(env.dbs.names.get('n1'), 'plain text');
      assert.equal(env.dbs.jobs.get('j2'), undefined, 'a failed transaction wrote nothing');
      assert.equal(env.dbs.names.get('n2'), undefined);
    } finally {
      await env.close();
    }
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
});

test('path info records round-trip through LMDB without losing u64 precision', async () => {
  const dir = await mkdtemp(join(tmpdir(), 'farm-lmdb-'));
  try {
    const env = openLmdbEnv({ file: join(dir, 'x.mdb'), databases: { pathInfos: 'msgpack' } });
    try {
      const info: PathInfo = {
        path: '/nix/store/00000000000000000000000000000000-x',
        narHash: sha256('x'),
        narSize: 2n ** 64n - 1n,
        references: ['/nix/store/11111111111111111111111111111111-y'],
        registrationTime: 2n ** 53n + 3n,
        ultimate: true,
        sigs: ['cache:abc'],
        deriver: '/nix/store/22222222222222222222222222222222-x.drv',
        ca: 'text:sha256:0000000000000000000000000000000000000000000000000000',
      };
      const small: PathInfo = { ...info, narSize: 120n, registrationTime: 0n };
      await env.transaction(() => {
        env.dbs.pathInfos.put('big', pathInfoToRecord(info));
        env.dbs.pathInfos.put('small', pathInfoToRecord(small));
      });
      const back = recordToPathInfo(info.path, env.dbs.pathInfos.get('big'));
      assert.equal(back.narSize, info.narSize);
      assert.equal(back.registrationTime, info.registrationTime);
      assert.ok(back.narHash.equals(info.narHash));
      assert.deepEqual({ ...back, narHash: back.narHash.base16 }, { ...info, narHash: info.narHash.base16 });
      const backSmall = recordToPathInfo(info.path, env.dbs.pathInfos.get('small'));
      assert.equal(backSmall.narSize, 120n);
      assert.equal(typeof backSmall.registrationTime, 'bigint');
    } finally {
      await env.close();
    }
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
});
