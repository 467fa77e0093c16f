/**
 * Crash safety with a real process kill: a child process uploads into the store and is killed
 * with SIGKILL, mid-NAR or right after an acknowledged add (of a NAR file, and of a small NAR
 * inline in LMDB). Reopening must show no half NAR, no record without its NAR, no temp
 * leftovers — and every acknowledged path intact.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtemp, readdir, rm, stat, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { setTimeout as sleep } from 'node:timers/promises';
import { openFarmStore } from '../src/index.js';
import { chunked, fakePath, infoFor, narOf, readAll } from './store-fixtures.js';

const STORE_MODULE = pathToFileURL(join(dirname(fileURLToPath(import.meta.url)), '..', 'src', 'index.js')).href;

/** Child: streams `nar` into the store at `dir`; `stall` stops after that many bytes and hangs. */
const CHILD = `
import { readFileSync } from 'node:fs';
import { Hash } from '@farm/nix';
import { openFarmStore } from ${JSON.stringify(STORE_MODULE)};
const [dir, narFile, path, stallAt] = process.argv.slice(1);
const nar = readFileSync(narFile);
const store = await openFarmStore({ dir });
setInterval(() => {}, 1000); // stay alive until killed
async function* upload() {
  for (let i = 0; i < nar.length; i += 65536) {
    if (i >= Number(stallAt)) { process.stdout.write('STALLED\\n'); await new Promise(() => {}); }
    yield nar.subarray(i, i + 65536);
  }
}
const { createHash } = await import('node:crypto');
const narHash = Hash.fromDigest('sha256', createHash('sha256').update(nar).digest());
const r = await store.addPath({ path, narHash, narSize: BigInt(nar.length), references: [], registrationTime: 0n, ultimate: false, sigs: [] }, upload());
process.stdout.write('ADDED ' + r.added + '\\n');
`;

async function runChildUntil(args: string[], marker: string, cwd: string): Promise<ChildProcess> {
  const child = spawn(process.execPath, ['--input-type=module', '-e', CHILD, ...args], { stdio: ['ignore', 'pipe', 'pipe'], cwd });
  let out = '';
  let err = '';
  child.stdout!.on('data', (d: Buffer) => (out += d.toString()));
  child.stderr!.on('data', (d: Buffer) => (err += d.toString()));
  for (let i = 0; i < 600 && !out.includes(marker); i++) {
    if (child.exitCode !== null) break;
    await sleep(50);
  }
  if (!out.includes(marker)) {
    child.kill('SIGKILL');
    throw new Error(`child never printed ${marker}; stdout: ${out}; stderr: ${err}`);
  }
  return child;
}

async function kill(child: ChildProcess): Promise<void> {
  const closed = new Promise((resolve) => child.on('close', resolve));
  child.kill('SIGKILL');
  await closed;
}

test('SIGKILL mid-upload leaves no visible half NAR; an acknowledged add survives SIGKILL', { timeout: 50_000 }, async () => {
  const work = await mkdtemp(join(tmpdir(), 'farm-store-crash-'));
  const children: ChildProcess[] = [];
  try {
    const dir = join(work, 'state');
    const narFile = join(work, 'upload.nar');
    const nar = await narOf({ big: 'q'.repeat(4 * 1024 * 1024) });
    await writeFile(narFile, nar);
    const path = fakePath('crashy');
    // The child runs from the repository root so that '@farm/nix' resolves from node_modules.
    const cwd = join(dirname(fileURLToPath(import.meta.url)), '..', '..', '..');

    const stalled = await runChildUntil([dir, narFile, path, String(3 * 1024 * 1024)], 'STALLED', cwd);
    children.push(stalled);
    const leftovers = await readdir(join(dir, 'tmp'));
    assert.equal(leftovers.length, 1, 'the upload was in progress in tmp/');
    assert.ok((await stat(join(dir, 'tmp', leftovers[0]!))).size >= 1024 * 1024, 'part of the NAR had reached the disk');
    await kill(stalled);

    let store = await openFarmStore({ dir });
    try {
      assert.deepEqual(await readdir(join(dir, 'tmp')), [], 'crash leftovers are removed at open');
      assert.deepEqual(await readdir(join(dir, 'nar')), [], 'no NAR file from the killed upload');
      assert.equal(await store.isValidPath(path), false);
      assert.deepEqual(store.inventory(), { pathInfos: [], hashParts: [], derivations: [], inlineNars: [] });
    } finally {
      await store.close();
    }

    const done = await runChildUntil([dir, narFile, path, String(nar.length + 1)], 'ADDED true', cwd);
    children.push(done);
    await kill(done);
    // A small NAR, stored inline in LMDB (no file): acknowledged means committed too.
    const smallFile = join(work, 'small.nar');
    const small = await narOf('small and inline\n');
    await writeFile(smallFile, small);
    const smallPath = fakePath('crashy-small');
    const doneSmall = await runChildUntil([dir, smallFile, smallPath, String(small.length + 1)], 'ADDED true', cwd);
    children.push(doneSmall);
    await kill(doneSmall);
    store = await openFarmStore({ dir });
    try {
      assert.equal(await store.isValidPath(path), true, 'an acknowledged add survives the kill');
      assert.ok((await readAll(await store.narStream(path))).equals(nar));
      assert.equal(await store.isValidPath(smallPath), true, 'an acknowledged inline add survives the kill');
      assert.equal(await store.narFile(smallPath), undefined, 'the small NAR is inline');
      assert.ok((await readAll(await store.narStream(smallPath))).equals(small));
      // Every record has its NAR (inline or a file), complete.
      for (const p of store.inventory().pathInfos) {
        assert.equal(BigInt((await readAll(await store.narStream(p))).length), (await store.getPathInfo(p))!.narSize, p);
      }
      // And the store keeps working after the crash.
      const more = await narOf('after the crash');
      assert.deepEqual(await store.addPath(infoFor(fakePath('after'), more), chunked(more)), { added: true });
    } finally {
      await store.close();
    }
  } finally {
    for (const c of children) if (c.exitCode === null && c.signalCode === null) c.kill('SIGKILL');
    await rm(work, { recursive: true, force: true });
  }
});
