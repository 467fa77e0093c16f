/**
 * The error texts and launch facts our formatters produce must be exactly what Nix 2.8 produced
 * in the vectors: BuildResult/STDERR_ERROR messages in the transcripts (ANSI escapes included),
 * the client's printed lines in client-runs/*.out, the fake ssh's argv, and the scripted
 * sessions' server stderr.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import {
  URI_SCHEMES,
  formatBuilderFailedMessage,
  formatBuilderFailure,
  formatClientErrorLines,
  formatInvalidPathError,
  formatLogTail,
  formatNixError,
  formatNotInStoreError,
  formatRemoteBuildFailure,
  formatWrongPlatformError,
  remoteCommand,
  shellEscape,
  sshArgv,
  stripAnsi,
} from '../src/index.js';
import { type Exchange, loadTranscript } from './transcripts.js';
import { readVectorJson, readVectorText } from './vectors.js';

const HOST_FEATURES = ['nixos-test', 'kvm', 'big-parallel', 'benchmark'];
const LOG_TAIL = ['about to fail', 'oops'];

function buildDerivations(file: string): Exchange[] {
  return loadTranscript(file).exchanges.filter((e) => e.op === 'BuildDerivation');
}

test('wrong-platform BuildResult text matches formatWrongPlatformError byte for byte (both protocols)', () => {
  let checked = 0;
  for (const file of ['serve-direct-session', 'serve-offload-aarch64', 'worker-direct-session', 'worker-offload-aarch64']) {
    for (const ex of buildDerivations(`transcripts/${file}.json`).filter((e) => e.response.status === 9)) {
      const expected = formatWrongPlatformError({
        requiredSystem: ex.request.derivation.platform,
        requiredFeatures: [],
        drvPath: ex.request.drvPath,
        hostSystem: 'x86_64-linux',
        hostFeatures: HOST_FEATURES,
      });
      assert.equal(ex.response.errorMsg, expected, file);
      checked++;
    }
  }
  assert.equal(checked, 4);
});

test('builder failures: serve BuildDerivation, worker with log tail, serve BuildPaths, worker STDERR_ERROR', () => {
  const serve = loadTranscript('transcripts/serve-direct-session.json').exchanges;
  const worker = loadTranscript('transcripts/worker-direct-session.json').exchanges;
  const failDrv = '/nix/store/q7kbyg5l9w6fl2x5qjmvga77vrxx6pky-cap-fail-d1795253759.drv';

  const serveBuild = serve.find((e) => e.op === 'BuildDerivation' && e.response.status === 3)!;
  assert.equal(serveBuild.response.errorMsg, formatBuilderFailure(failDrv, 3));
  const serveOffload = buildDerivations('transcripts/serve-offload-fail.json')[0]!;
  assert.equal(serveOffload.response.errorMsg, formatBuilderFailure(serveOffload.request.drvPath, 3));

  const servePaths = serve.find((e) => e.op === 'BuildPaths' && e.response.status === 100)!;
  assert.equal(servePaths.response.errorMsg, formatNixError(formatBuilderFailedMessage(failDrv, 3)));

  const withResults = worker.find((e) => e.op === 'BuildPathsWithResults' && e.response.results[0].status === 3)!;
  assert.equal(withResults.response.results[0].errorMsg, formatBuilderFailure(failDrv, 3, LOG_TAIL));
  const workerOffload = buildDerivations('transcripts/worker-offload-fail.json')[0]!;
  assert.equal(workerOffload.response.errorMsg, formatBuilderFailure(workerOffload.request.drvPath, 3, LOG_TAIL));

  const errors = worker.flatMap((e) => (e.response.stderr as Array<{ msg: string; message?: string }>).filter((m) => m.msg === 'STDERR_ERROR'));
  assert.equal(errors[0]!.message, formatBuilderFailedMessage(failDrv, 3) + formatLogTail(failDrv, LOG_TAIL));
  assert.equal(errors[1]!.message, formatNotInStoreError('/tmp/not-a-store-path'));
  assert.equal(formatLogTail(failDrv, []), '');
});

test("client-runs/*.out: the hook's \"build of '…' on '…' failed: …\" lines are formatRemoteBuildFailure of the transcript's errorMsg", () => {
  const runs = [
    ['serve-offload-aarch64.out', 'serve-offload-aarch64', 'serve'],
    ['serve-offload-fail.out', 'serve-offload-fail', 'serve'],
    ['ng-offload-aarch64.out', 'worker-offload-aarch64', 'worker'],
    ['ng-offload-fail.out', 'worker-offload-fail', 'worker'],
  ] as const;
  for (const [out, transcript, protocol] of runs) {
    const text = readVectorText(`client-runs/${out}`);
    const ex = buildDerivations(`transcripts/${transcript}.json`)[0]!;
    const drv = ex.request.drvPath as string;
    const uri = `${URI_SCHEMES[protocol]}://localhost?remote-program=$VEC/cap/proxy`;
    assert.ok(text.includes(`building '${drv}' on '${uri}'...\n`), `${out}: the run used ${uri}`);
    const hookLine = formatClientErrorLines(formatRemoteBuildFailure(drv, uri, ex.response.errorMsg));
    assert.ok(text.includes(`${hookLine}\n`), `${out}: contains ${JSON.stringify(hookLine)}`);
    assert.ok(text.endsWith(`${formatClientErrorLines(formatBuilderFailedMessage(drv, 1))}\n`), `${out}: local builder reported exit code 1`);
    assert.ok(!text.includes('\x1b['), `${out}: no ANSI escapes on a non-terminal`);
  }
});

test('client-runs/fakessh-argv.txt: ssh is called as `ssh <host> -x -a "<remote-program> <protocol args>"`', () => {
  const lines = readVectorText('client-runs/fakessh-argv.txt').trimEnd().split('\n');
  const show = (argv: string[]): string => `fake-ssh argv: ${argv.map((a) => `[${a}]`).join(' ')}`;
  assert.deepEqual(lines, [show(sshArgv('farm', remoteCommand('serve', '$VEC/cap/proxy'))), show(sshArgv('farm', remoteCommand('worker', '$VEC/cap/proxy')))]);
  assert.equal(remoteCommand('serve'), 'nix-store --serve --write');
  assert.equal(remoteCommand('worker', undefined, "/tmp/it's"), "nix-daemon --stdio --store '/tmp/it'\\''s'");
  assert.equal(shellEscape(''), "''");
  assert.deepEqual(sshArgv('u@h', 'c', { extraOptions: ['-p', '2222'], sshKey: '/k', compress: true }), ['u@h', '-x', '-a', '-p', '2222', '-i', '/k', '-C', 'c']);
});

test('client-runs/direct-sessions-server-stderr.json and sessions.out: the serve server dies on an invalid DumpStorePath, the worker exits cleanly', () => {
  const stderr = readVectorJson<{ serve: { serverStderrTail: string; serverExit: number }; worker: { serverStderrTail: string; serverExit: number }; fixtures: any }>(
    'client-runs/direct-sessions-server-stderr.json',
  );
  const sessions = readVectorJson<{ serve: { serverExit: number }; worker: { serverExit: number }; fixtures: unknown }>('client-runs/sessions.out');
  assert.deepEqual(sessions.fixtures, stderr.fixtures);
  assert.equal(sessions.serve.serverExit, 1);
  assert.equal(sessions.worker.serverExit, 0);

  const serve = loadTranscript('transcripts/serve-direct-session.json').exchanges;
  const last = serve[serve.length - 1]!;
  assert.equal(last.op, 'DumpStorePath');
  assert.equal(last.response.connectionClosedByServer, true);
  const invalid = `${stripAnsi(formatNixError(formatInvalidPathError(last.request.path)))}\n`;
  assert.ok(stderr.serve.serverStderrTail.endsWith(invalid), 'the server printed the error to stderr and exited');
  // Build logs go to stderr in the serve protocol, never into the stream.
  assert.ok(stderr.serve.serverStderrTail.startsWith('building a\nabout to fail\noops\n'));
  assert.equal(stderr.worker.serverStderrTail, '');

  const failDrv = stderr.fixtures.drvs.fail as string;
  assert.ok(serve.some((e) => e.op === 'BuildDerivation' && e.request.drvPath === failDrv && e.response.status === 3));
});

test('client-runs/fakefarm.txt: a spec-only server got offloads over ssh:// and ssh-ng:// for both systems and the client registered every output', () => {
  const text = readVectorText('client-runs/fakefarm.txt');
  const blocks = text.split(/^=== /m).filter((b) => b.trim() !== '');
  assert.equal(blocks.length, 4);
  const seen = new Set<string>();
  for (const block of blocks) {
    const [scheme, system] = block.split('\n')[0]!.split(' ');
    assert.ok(Object.values(URI_SCHEMES).includes(scheme!), `scheme ${scheme}`);
    seen.add(`${scheme} ${system}`);
    assert.match(block, /^exit=0$/m);
    const validity = block.match(/\| valid=\w+$/gm) ?? [];
    assert.equal(validity.length, 2, 'both outputs (out, dev) checked');
    assert.ok(validity.every((v) => v === '| valid=yes'));
    assert.ok(block.includes(`from '${scheme}://localhost'...`));
  }
  assert.deepEqual([...seen].sort(), ['ssh aarch64-linux', 'ssh x86_64-linux', 'ssh-ng aarch64-linux', 'ssh-ng x86_64-linux']);
});

test('stripAnsi removes the colour escapes Nix uses and nothing else', () => {
  assert.equal(stripAnsi(formatNixError(`a '${'\x1b[35;1m'}x${'\x1b[0m'}'`)), "error: a 'x'");
  assert.equal(stripAnsi('plain [text]'), 'plain [text]');
});
