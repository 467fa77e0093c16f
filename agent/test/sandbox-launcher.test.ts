/**
 * The launcher process that starts bwrap for the agent (src/sandbox/launcher.ts): logs arrive
 * whole and in order through the log connection, a missing program is a clear setup failure,
 * and a launcher that dies takes its sandboxes with it and is replaced on the next launch.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { connect } from 'node:net';
import { setTimeout as sleep } from 'node:timers/promises';
import { Launcher } from '../src/sandbox/launcher.js';
import { runSandboxed } from '../src/sandbox/run-sandboxed.js';
import { processesWith } from './fixtures/build-helpers.js';

const T = { timeout: 30_000 };

/** `sleep <marker>` in a sandbox that dies with its parent; the marker finds it on the host. */
const sandboxedSleep = (launcher: Launcher, marker: string) =>
  runSandboxed({ bwrap: 'bwrap', options: ['--unshare-all', '--die-with-parent', '--ro-bind', '/', '/'], command: ['--', '/usr/bin/sleep', marker], onLog: () => undefined, launcher });


test('stdout and stderr share one connection, in the order written; fd 4 carries the arguments; status and exit are relayed', T, async () => {
  const launcher = new Launcher();
  try {
    const chunks: Buffer[] = [];
    let status = '';
    const script = 'for i in $(seq 1 2000); do echo "out $i"; echo "err $i" >&2; done; echo \'{"child-pid": 1}\' >&3; tr "\\0" "|" <&4 >&2; exit 7';
    const launched = await launcher.launch({ file: '/bin/sh', args: ['-c', script], fd4: 'a b\0c\0', onLog: (c) => chunks.push(c), onStatus: (t) => (status += t) });
    assert.equal(typeof (await launched.pid), 'number');
    const closed = await launched.closed;
    assert.deepEqual(closed, { code: 7, signal: null });
    const expected = `${Array.from({ length: 2000 }, (_, i) => `out ${i + 1}\nerr ${i + 1}\n`).join('')}a b|c|`;
    assert.equal(Buffer.concat(chunks).toString(), expected);
    assert.equal(status.trim(), '{"child-pid": 1}');
  } finally {
    launcher.close();
  }
});

test('a program that does not exist is a setup failure naming it, and nothing waits for a log', T, async () => {
  const launcher = new Launcher();
  try {
    const launched = await launcher.launch({ file: '/nonexistent/farm-bwrap', args: [], fd4: '', onLog: () => undefined, onStatus: () => undefined });
    assert.equal(await launched.pid, undefined);
    const closed = await launched.closed;
    assert.match(closed.error ?? '', /ENOENT/);
  } finally {
    launcher.close();
  }
});

test('a launcher killed mid-build ends the build as a setup failure, its sandbox dies, and the next launch works', T, async () => {
  const launcher = new Launcher();
  const marker = String(700_000 + Math.floor(Math.random() * 99_999));
  try {
    const running = sandboxedSleep(launcher, marker);
    for (let i = 0; i < 100 && processesWith(`sleep ${marker}`).length === 0; i++) await sleep(20);
    assert.ok(processesWith(`sleep ${marker}`).length >= 1, 'the sandboxed sleep runs');
    const helper = launcher.processId;
    assert.ok(helper !== undefined);
    process.kill(helper, 'SIGKILL');
    const exit = await running;
    assert.equal(exit.kind, 'setup-failed');
    assert.match(exit.kind === 'setup-failed' ? (exit.error ?? '') : '', /launcher process exited \(SIGKILL\)/);
    for (let i = 0; i < 100 && processesWith(`sleep ${marker}`).length > 0; i++) await sleep(20);
    assert.deepEqual(processesWith(`sleep ${marker}`), [], 'the sandbox died with its launcher');

    const again = await runSandboxed({ bwrap: 'bwrap', options: ['--ro-bind', '/', '/'], command: ['--', '/bin/sh', '-c', 'echo back'], onLog: () => undefined, launcher });
    assert.deepEqual(again, { kind: 'exited', exitCode: 0 });
    assert.notEqual(launcher.processId, helper, 'a new launcher process');
  } finally {
    launcher.close();
  }
});

test('a stranger on the log socket with a wrong token is cut off, and builds log as before', T, async () => {
  const launcher = new Launcher();
  try {
    const warm = await launcher.launch({ file: '/bin/true', args: [], fd4: '', onLog: () => undefined, onStatus: () => undefined });
    await warm.closed;
    const stranger = connect(launcher.logSocket);
    const closed = new Promise<void>((resolve) => stranger.once('close', () => resolve()));
    stranger.on('error', () => undefined);
    stranger.write(`${'0'.repeat(32)}\ninjected\n`);
    await closed;
    const chunks: Buffer[] = [];
    const launched = await launcher.launch({ file: '/bin/sh', args: ['-c', 'echo mine'], fd4: '', onLog: (c) => chunks.push(c), onStatus: () => undefined });
    assert.deepEqual(await launched.closed, { code: 0, signal: null });
    assert.equal(Buffer.concat(chunks).toString(), 'mine\n');
  } finally {
    launcher.close();
  }
});

test('a launcher killed while bwrap is still setting up its namespaces leaves no process behind', T, async () => {
  // bwrap's inner process waits for the outer one during setup and has not armed
  // --die-with-parent yet: killed at that moment, only the launcher's process group catches it.
  for (let round = 0; round < 8; round++) {
    const launcher = new Launcher();
    const marker = String(800_000 + Math.floor(Math.random() * 99_999));
    try {
      const running = sandboxedSleep(launcher, marker);
      // As early as possible: the first moment anything with the marker exists.
      for (let i = 0; i < 2000 && processesWith(`sleep ${marker}`).length === 0; i++) await sleep(1);
      process.kill(launcher.processId!, 'SIGKILL');
      await running;
      for (let i = 0; i < 100 && processesWith(`sleep ${marker}`).length > 0; i++) await sleep(20);
      assert.deepEqual(processesWith(`sleep ${marker}`), [], `round ${round}: nothing of the sandbox is left`);
    } finally {
      launcher.close();
    }
  }
});
