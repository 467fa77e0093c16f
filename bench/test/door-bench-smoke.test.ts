/**
 * Smoke test of the Nix-door benchmark on a tiny DAG (2 layers × 5): one run of the farm over
 * ssh-ng:// and of plain Nix over ssh://, plus the profiled pass of the farm side, so the harness
 * keeps working. The run itself checks that every derivation was offloaded, built by the remote
 * and returned; here the report's shape. No timing assertions.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { formatDoorBench, parseRelayLog, profileSessions, runDoorBench } from '../src/index.js';

test('the door benchmark offloads a tiny DAG to the farm and to plain Nix and says where the time goes', { timeout: 120_000 }, async () => {
  const r = await runDoorBench({ runs: 1, layers: 2, width: 5, sides: ['farm-ssh-ng', 'plain'], profile: ['farm-ssh-ng'] });
  assert.equal(r.derivations, 10);
  assert.equal(r.runs.length, 1);
  for (const side of r.runs[0]!) {
    assert.equal(side.offloaded, 10, `${side.side}: all offloaded`);
    assert.equal(side.builtByRemote, 10, `${side.side}: all built by the remote`);
    assert.equal(side.validInClient, 10, `${side.side}: all valid in the client store`);
  }
  assert.ok(r.ratioSshNg !== undefined && Number.isFinite(r.ratioSshNg) && r.ratioSshNg > 0);
  assert.equal(r.farmBuilds['farm-ssh-ng']?.builds, 10);
  const [profile] = r.profiles;
  assert.equal(profile?.side, 'farm-ssh-ng');
  assert.equal(profile.sessions, 10, 'one remote session per derivation');
  assert.equal(profile.farm?.builds, 10);
  assert.ok(profile.build.totalMs > 0 && profile.startup.totalMs > 0);
  const text = formatDoorBench(r);
  assert.match(text, /plain \/ farm ssh-ng/);
  assert.match(text, /BuildDerivation → its reply/);
});

test('the relay log is split into commands at each client burst that follows server bytes', () => {
  const log = [
    '7 start 1000 --serve,--write',
    '7 ready 1040',
    '7 spawned 1045',
    `7 c 1050 16 ${0x390c9deb}`, // handshake
    '7 s 1090 16',
    '7 c 1100 40 1', // QueryValidPaths
    '7 s 1110 8',
    '7 c 1120 300 8 /nix/store/aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa-x.drv', // BuildDerivation
    '7 e 1130 20', // its build log
    '7 s 1140 120',
    '7 c 1150 40 2', // QueryPathInfos
    '7 s 1160 200',
    '7 c 1170 60 3', // DumpStorePath, in two chunks before any answer
    '7 c 1180 8 12345',
    '7 s 1190 500',
    '7 c 1200 8 999', // no known command: counted with the one before
    '7 s 1210 8',
    '7 ceof 1300',
  ].join('\n');
  const sessions = parseRelayLog(log);
  assert.equal(sessions.length, 1);
  const s = sessions[0]!;
  assert.equal(s.protocol, 'serve');
  assert.deepEqual(
    s.commands.map((c) => c.name),
    ['handshake', 'QueryValidPaths', 'BuildDerivation', 'QueryPathInfos', 'DumpStorePath'],
  );
  assert.equal(s.commands[2]!.drvPath, '/nix/store/aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa-x.drv');
  assert.equal(s.handshakeEndMs, 1090);
  const p = profileSessions(sessions);
  assert.equal(p.startup.totalMs, 1090 - 1045);
  assert.equal(p.build.totalMs, 1140 - 1120, "the request's first byte → the reply's last");
  assert.equal(p.copyOut.totalMs, 1160 - 1150 + (1210 - 1170));
  assert.equal(p.session.totalMs, 1300 - 1045);
  assert.equal(p.clientWait.totalMs, 1300 - 1045 - 45 - 10 - 20 - 50);
  assert.equal(p.relayOverhead.totalMs, 45);
});
