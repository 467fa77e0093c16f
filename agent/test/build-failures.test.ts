/**
 * Failure modes of buildDerivation with the real bwrap: each limit is reported as its own status
 * with a Nix-shaped message, kills take the whole sandboxed process tree, logs arrive complete
 * and in order, and scratch dirs never outlive a build.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, readdirSync } from 'node:fs';
import { join } from 'node:path';
import { makeScratch, processesWith, runBuild, scriptDrv } from './fixtures/build-helpers.js';

const T = { timeout: 30_000 };

test('a builder exiting 3 fails with Nix\'s message, the exit code and the log tail', T, async () => {
  const s = makeScratch();
  try {
    const drv = scriptDrv('for i in 1 2 3 4 5 6 7 8 9 10 11 12 13 14 15 16 17 18 19 20 21 22 23 24 25 26 27 28 29 30; do echo "line $i"; done; echo oops >&2; exit 3');
    const r = await runBuild(s, drv, { logTailLines: 5 });
    assert.equal(r.status, 'failed');
    assert.equal(r.failureClass, 'build');
    assert.equal(r.exitCode, 3);
    assert.match(r.message, /^builder for '\/nix\/store\/[0-9a-z]{32}-probe\.drv' failed with exit code 3$/);
    assert.deepEqual(r.logTail, ['line 27', 'line 28', 'line 29', 'line 30', 'oops']);
    assert.deepEqual(r.outputs, []);
    assert.deepEqual(readdirSync(s.storeRoot), [], 'nothing enters the store');
    assert.deepEqual(scratchDirs(s.workDir), [], 'the scratch dir is removed');
  } finally {
    s.remove();
  }
});

test('timeout kills the whole process tree, background children included', T, async () => {
  const s = makeScratch();
  const marker = String(900_000 + Math.floor(Math.random() * 99_999));
  try {
    const drv = scriptDrv(`/usr/bin/sleep ${marker} & echo started; exec /usr/bin/sleep ${marker}`);
    let seenWhileRunning = 0;
    const r = await runBuild(s, drv, { timeoutMs: 1500 }, undefined, () => {
      seenWhileRunning = Math.max(seenWhileRunning, processesWith(`sleep ${marker}`).length);
    });
    assert.ok(seenWhileRunning >= 1, 'the probe does see sandboxed processes from the host while they run');
    assert.equal(r.status, 'timed-out');
    assert.equal(r.failureClass, 'build');
    assert.match(r.message, /^building of '.*-probe\.drv' timed out after 1\.5 seconds$/);
    assert.deepEqual(processesWith(`sleep ${marker}`), [], 'no sandboxed process survives');
    assert.deepEqual(scratchDirs(s.workDir), []);
  } finally {
    s.remove();
  }
});

test('max-silent-time kills a build that stops printing and says so', T, async () => {
  const s = makeScratch();
  const marker = String(800_000 + Math.floor(Math.random() * 99_999));
  try {
    const drv = scriptDrv(`echo one; echo two; /usr/bin/sleep ${marker}`);
    const r = await runBuild(s, drv, { maxSilentMs: 500, timeoutMs: 60_000 });
    assert.equal(r.status, 'silent-too-long');
    assert.match(r.message, /timed out after 0\.5 seconds of silence$/);
    assert.ok('one\ntwo\n'.startsWith(r.log), 'whatever was printed before the kill is in the log');
    assert.deepEqual(processesWith(`sleep ${marker}`), []);
  } finally {
    s.remove();
  }
});

test('aborting the signal cancels the build and kills it', T, async () => {
  const s = makeScratch();
  const marker = String(700_000 + Math.floor(Math.random() * 99_999));
  try {
    const ac = new AbortController();
    const drv = scriptDrv(`echo ready; /usr/bin/sleep ${marker}`);
    const r = await runBuild(s, drv, {}, ac.signal, () => ac.abort());
    assert.equal(r.status, 'cancelled');
    assert.equal(r.failureClass, 'cancelled');
    assert.deepEqual(processesWith(`sleep ${marker}`), []);
    const already = await runBuild(s, drv, {}, AbortSignal.abort());
    assert.equal(already.status, 'cancelled', 'an already-aborted signal never starts the build');
  } finally {
    s.remove();
  }
});

test('an output the builder did not create is output-missing, and no output is moved', T, async () => {
  const s = makeScratch();
  try {
    const drv = scriptDrv('echo hi > $out', { outputs: ['out', 'dev'] });
    const r = await runBuild(s, drv);
    assert.equal(r.status, 'output-missing');
    assert.equal(r.failureClass, 'build');
    assert.equal(r.message, `builder for '${r.message.split("'")[1]}' failed to produce output path for output 'dev' at '${drv.outputs.get('dev')!.path}'`);
    assert.deepEqual(readdirSync(s.storeRoot), []);
  } finally {
    s.remove();
  }
});

test('an output holding a FIFO fails the build (NAR cannot hold it) instead of throwing', T, async () => {
  const s = makeScratch();
  try {
    const r = await runBuild(s, scriptDrv('/usr/bin/mkdir $out && /usr/bin/mkfifo $out/pipe'));
    assert.equal(r.status, 'failed');
    assert.equal(r.failureClass, 'build');
    assert.match(r.message, /produced an output that cannot be stored: .*pipe/);
    assert.deepEqual(readdirSync(s.storeRoot), []);
  } finally {
    s.remove();
  }
});

test('100,000 lines on stdout and stderr arrive through onLog, every one, in order', T, async () => {
  const s = makeScratch();
  try {
    const drv = scriptDrv('i=0; while [ $i -lt 100000 ]; do if [ $((i % 2)) = 0 ]; then echo "line $i"; else echo "line $i" >&2; fi; i=$((i+1)); done; echo done > $out');
    const r = await runBuild(s, drv);
    assert.equal(r.status, 'built');
    const got = r.log.split('\n');
    assert.equal(got.pop(), '');
    assert.equal(got.length, 100_000);
    for (let i = 0; i < got.length; i++) if (got[i] !== `line ${i}`) assert.fail(`line ${i} is '${got[i]}'`);
  } finally {
    s.remove();
  }
});

test('more log than maxLogBytes kills the build as log-limit-exceeded', T, async () => {
  const s = makeScratch();
  try {
    const r = await runBuild(s, scriptDrv('exec /usr/bin/yes farm'), { maxLogBytes: 100_000 });
    assert.equal(r.status, 'log-limit-exceeded');
    assert.match(r.message, /killed after writing more than 100000 bytes of log output$/);
  } finally {
    s.remove();
  }
});

test('a sandbox bwrap cannot set up is an infrastructure failure, not a build failure', T, async () => {
  const s = makeScratch();
  try {
    // The mount point would have to be created inside the read-only /usr bind.
    const r = await runBuild(s, scriptDrv('echo never > $out'), { sandboxPaths: ['/usr', '/usr/farm-no-such-dir=/etc/hostname'] });
    assert.equal(r.status, 'sandbox-error');
    assert.equal(r.failureClass, 'infrastructure');
    assert.match(r.message, /could not set up the sandbox/);
    assert.match(r.log, /bwrap:/, 'bwrap\'s own complaint is in the log');
    assert.equal(existsSync(join(s.storeRoot, 'x')), false);
  } finally {
    s.remove();
  }
});

/** Per-build scratch dirs left in a work dir (the shared sandbox /etc files stay, on purpose). */
function scratchDirs(workDir: string): string[] {
  return readdirSync(workDir).filter((name) => name !== 'sandbox-etc');
}
