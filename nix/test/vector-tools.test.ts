/**
 * The scripts in shared/vectors/tools produced or drive the vectors. The ones that encode facts
 * are run for real (nixref.py against our hashes and paths, fakessh/ssh with Nix's recorded argv,
 * cap/proxy in front of a real `nix-store --serve`, show.py on a transcript); the capture
 * drivers are read for the commands and constants the vectors (and we) rely on.
 * Missing python3 or nix binaries fail these tests.
 */
import { test, after } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, readdirSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Hash, NIX32_ALPHABET, compressHash, encodeNix32, makeFixedOutputPath, makeStorePath, makeTextPath, sha256 } from '../src/index.js';
import { readBinaryCacheVectors } from './binary-cache-vectors.js';
import { readVectorJson, readVectorText, vectorPath } from './vectors.js';

const work = mkdtempSync(join(tmpdir(), 'farm-vector-tools-'));
after(() => rmSync(work, { recursive: true, force: true }));

function run(cmd: string, args: string[], opts: { input?: Buffer | string; env?: Record<string, string> } = {}) {
  const r = spawnSync(cmd, args, {
    input: opts.input,
    timeout: 30_000,
    // No .pyc files: importing nixref.py must not write into shared/vectors.
    env: { PATH: process.env['PATH'] ?? '/usr/bin:/bin', HOME: work, PYTHONDONTWRITEBYTECODE: '1', ...opts.env },
  });
  if (r.error) throw new Error(`cannot run ${cmd}: ${r.error.message}`);
  return { status: r.status, stdout: r.stdout, stderr: r.stderr.toString('utf8') };
}

test('tools/nixref.py (the reference the generators assert against) agrees with our hashes and store paths', () => {
  const script = `
import sys, json, hashlib
sys.path.insert(0, sys.argv[1])
import nixref
h = hashlib.sha256(b"hello\\n").digest()
print(json.dumps({
  "alphabet": nixref.NIX32,
  "nix32": nixref.nix32(h),
  "decoded": nixref.nix32_decode(nixref.nix32(h)).hex(),
  "compress": nixref.compress(h).hex(),
  "storePath": nixref.make_store_path("source", h.hex(), "hello.txt"),
  "text": nixref.make_text_path("a.txt", b"text a\\n", []),
  "textRefs": nixref.make_text_path("b.txt", b"refers\\n", ["/nix/store/h1xv0qjnm4j1557r15pwwn2dziz4iq40-a.txt"]),
  "fixedFlat": nixref.make_fixed_output_path(False, "sha256", h.hex(), "hello.txt"),
  "fixedRec": nixref.make_fixed_output_path(True, "sha256", h.hex(), "hello.txt"),
  "fixedSha1": nixref.make_fixed_output_path(True, "sha1", hashlib.sha1(b"x").hexdigest(), "x"),
  "outputName": [nixref.output_path_name("p", "out"), nixref.output_path_name("p", "dev")],
}))`;
  const r = run('python3', ['-c', script, vectorPath('tools')]);
  assert.equal(r.status, 0, r.stderr);
  const py = JSON.parse(r.stdout.toString('utf8')) as Record<string, unknown>;
  const h = sha256('hello\n');
  assert.equal(py['alphabet'], NIX32_ALPHABET);
  assert.equal(py['nix32'], encodeNix32(h.digest));
  assert.equal(py['decoded'], h.base16);
  assert.equal(py['compress'], Buffer.from(compressHash(h.digest, 20)).toString('hex'));
  assert.equal(py['storePath'], makeStorePath('source', h, 'hello.txt'));
  assert.equal(py['text'], makeTextPath('a.txt', sha256('text a\n')));
  assert.equal(py['textRefs'], makeTextPath('b.txt', sha256('refers\n'), ['/nix/store/h1xv0qjnm4j1557r15pwwn2dziz4iq40-a.txt']));
  assert.equal(py['fixedFlat'], makeFixedOutputPath('flat', h, 'hello.txt'));
  assert.equal(py['fixedRec'], makeFixedOutputPath('recursive', h, 'hello.txt'));
  assert.equal(py['fixedSha1'], makeFixedOutputPath('recursive', Hash.of('sha1', 'x'), 'x'));
  assert.deepEqual(py['outputName'], ['p', 'p-dev']);
});

test('tools/fakessh/ssh run with the argv Nix gave it (client-runs/fakessh-argv.txt) executes the remote command', () => {
  const recorded = readVectorText('client-runs/fakessh-argv.txt').trim().split('\n');
  assert.equal(recorded.length, 2);
  const ssh = vectorPath('tools/fakessh/ssh');
  for (const line of recorded) {
    const argv = [...line.replace(/^fake-ssh argv: /, '').matchAll(/\[([^\]]*)\]/g)].map((m) => m[1]!);
    assert.deepEqual(argv.slice(0, 3), ['farm', '-x', '-a'], 'Nix 2.8: ssh HOST -x -a COMMAND');
    assert.match(argv[3]!, /^\$VEC\/cap\/proxy --(serve --write|stdio)$/);
    // Same argv with the remote program replaced by a harmless echo.
    const logDir = mkdtempSync(join(work, 'fakessh-'));
    const cmd = argv[3]!.replace('$VEC/cap/proxy', 'echo remote-ran');
    const r = run('bash', [ssh, ...argv.slice(0, 3), cmd], { env: { CAP_LOGDIR: logDir } });
    assert.equal(r.status, 0, r.stderr);
    assert.equal(r.stdout.toString('utf8'), `remote-ran ${argv[3]!.split(' ').slice(1).join(' ')}\n`);
    assert.equal(readFileSync(join(logDir, 'fakessh-argv.txt'), 'utf8'), `fake-ssh argv: [farm] [-x] [-a] [${cmd}]\n`, 'it logs argv in the recorded format');
  }
  const logDir = mkdtempSync(join(work, 'fakessh-new-'));
  // The -O check probe of newer Nix must fail (no control master).
  assert.equal(run('bash', [ssh, '-O', 'check', 'farm'], { env: { CAP_LOGDIR: logDir } }).status, 255);
  // Newer Nix: `--` separates the remote words, LocalCommand prints "started" first.
  const r = run('bash', [ssh, 'farm', '-x', '-oPermitLocalCommand=yes', '-oLocalCommand=echo started', '--', 'echo', 'a', 'b'], { env: { CAP_LOGDIR: logDir } });
  assert.equal(r.stdout.toString('utf8'), 'started\na b\n');
});

test('tools/cap/proxy relays a real nix-store --serve handshake and logs both directions', () => {
  const logDir = mkdtempSync(join(work, 'proxy-'));
  const hello = Buffer.alloc(16);
  hello.writeBigUInt64LE(0x390c9debn, 0); // SERVE_MAGIC_1, as tools/decode.py names it
  hello.writeBigUInt64LE(0x207n, 8); // serve protocol 2.7
  const r = run('python3', [vectorPath('tools/cap/proxy'), '--serve', '--write'], { input: hello, env: { CAP_LOGDIR: logDir, CAP_TAG: 'farm-test' } });
  assert.ok(r.stdout.length >= 16, `server answered ${r.stdout.length} bytes; ${r.stderr}`);
  const decode = readVectorText('tools/decode.py');
  const magic2 = /SERVE_MAGIC_1, SERVE_MAGIC_2 = 0x([0-9A-F]+), 0x([0-9A-F]+)/.exec(decode);
  assert.ok(magic2);
  assert.equal(r.stdout.readBigUInt64LE(0), BigInt(`0x${magic2[2]}`), 'reply magic is SERVE_MAGIC_2');
  assert.equal(r.stdout.readBigUInt64LE(8), 0x207n, 'Nix 2.8 serves protocol 2.7');
  const logs = readdirSync(logDir).filter((f) => f.startsWith('farm-test-') && f.endsWith('.jsonl'));
  assert.equal(logs.length, 1);
  const events = readFileSync(join(logDir, logs[0]!), 'utf8').trim().split('\n').map((l) => JSON.parse(l) as Record<string, unknown>);
  assert.deepEqual(events[0]!['argv'], ['/usr/bin/nix-store', '--serve', '--write'], 'proxy execs the real nix-store for --serve');
  const c2s = Buffer.concat(events.filter((e) => e['dir'] === 'c2s' && typeof e['b64'] === 'string').map((e) => Buffer.from(e['b64'] as string, 'base64')));
  assert.ok(c2s.equals(hello));
  const s2c = Buffer.concat(events.filter((e) => e['dir'] === 's2c' && typeof e['b64'] === 'string').map((e) => Buffer.from(e['b64'] as string, 'base64')));
  assert.ok(s2c.equals(r.stdout));
  assert.deepEqual(events.at(-1), { event: 'exit', rc: r.status });
  const proxy = readVectorText('tools/cap/proxy');
  assert.match(proxy, /prog = "\/usr\/bin\/nix-store" if "--serve" in args else "\/usr\/bin\/nix-daemon"/);
  assert.match(proxy, /env\["NIX_CONFIG"\] = env\.get\("CAP_CHILD_NIX_CONFIG", "substituters ="\)/, 'the remote side is kept offline');
});

test('tools/decode.py protocol constants are the ones in the spec', () => {
  const decode = readVectorText('tools/decode.py');
  const spec = readFileSync(join(vectorPath(''), '..', 'spec', 'nix-protocols.md'), 'utf8').toLowerCase();
  const constants = [...decode.matchAll(/0x([0-9A-F]{8})/g)].map((m) => m[1]!.toLowerCase());
  for (const c of ['390c9deb', '5452eecb', '6e697863', '6478696f', '616c7473', '63787470']) {
    assert.ok(constants.includes(c), `decode.py defines 0x${c}`);
    assert.ok(spec.includes(c), `the spec documents 0x${c}`);
  }
});

test('tools/show.py prints the ops of a transcript in the order transcripts/index.json lists them', () => {
  const r = run('python3', [vectorPath('tools/show.py'), vectorPath('transcripts/serve-copy-to.json')]);
  assert.equal(r.status, 0, r.stderr);
  const lines = r.stdout.toString('utf8').split('\n');
  assert.match(lines[0]!, /^== .*transcripts\/serve-copy-to\.json 2\.7 2\.7 unparsed: $/);
  const ops = lines.filter((l) => /^ {2}\S/.test(l)).map((l) => l.trim().split(' ')[0]);
  const index = readVectorJson<Array<{ file: string; ops: string[] }>>('transcripts/index.json');
  assert.deepEqual(ops, index.find((t) => t.file === 'transcripts/serve-copy-to.json')!.ops);
});

test('tools/features_test.sh ran exactly the experiments recorded in client-runs/features.txt', () => {
  const script = readVectorText('tools/features_test.sh');
  const calls = [...script.matchAll(/^t ([A-F]) (\w+)\s+"([^"]+)"$/gm)].map((m) => `### ${m[1]}: attr=${m[2]} builders='${m[3]!.replaceAll('$P', '$VEC/cap/proxy')}'`);
  const recorded = readVectorText('client-runs/features.txt').split('\n').filter((l) => l.startsWith('### '));
  assert.equal(calls.length, 6);
  assert.deepEqual(calls, recorded);
  assert.match(script, /nix-store --store \$cs --realise \$drv --max-jobs 0 --option substituters '' --builders "\$3"/, 'max-jobs 0: nothing could build locally');
});

test('tools/gen_cache.py: the fingerprint and layout it checks are the ones our code produces', () => {
  const script = readVectorText('tools/gen_cache.py');
  const vectors = readBinaryCacheVectors();
  assert.match(script, /for comp in \["none", "xz"\]/);
  assert.match(script, /fp = "1;" \+ f1\["StorePath"\] \+ ";" \+ f1\["NarHash"\] \+ ";" \+ f1\["NarSize"\] \+ ";" \+ ",".join\("\/nix\/store\/" \+ r for r in refs\)/);
  assert.match(script, /assert f1\["URL"\] == f"nar\/\{file_hash\}\.nar" \+ \("\.xz" if comp == "xz" else ""\)/);
  const verifyCmd = /"nix store verify --store file:\/\/\{D\}\/none --trusted-public-keys '\{pub_line\}' --all"/.exec(script);
  assert.ok(verifyCmd);
  assert.equal(vectors.nixStoreVerify.command, `nix store verify --store file://$VEC/cache/none --trusted-public-keys '${vectors.publicKey}' --all`);
  assert.equal(vectors.nixStoreVerify.exit, 0);
  for (const e of vectors.caches.none.narinfos) assert.ok(vectors.nixStoreVerify.stderr.includes(`checking '${e.narinfo.split('\n')[0]!.slice('StorePath: '.length)}'...`));
  assert.equal(vectors.caches.none.command, "nix copy --to 'file://$VEC/cache/none?compression=none&secret-key=$VEC/cache/rfc8032-test1.sec' <paths>");
  assert.ok(vectors.nixVersion.endsWith('2.8.0'));
});

test('tools/regenerate.sh wrote the RFC 8032 TEST 1 key that binary-cache.json records', () => {
  const script = readVectorText('tools/regenerate.sh');
  const seed = /bytes\.fromhex\("([0-9a-f]{64})"\)/.exec(script);
  assert.ok(seed);
  const vectors = readBinaryCacheVectors();
  assert.equal(Buffer.from(vectors.secretKeyFile.split(':')[1]!, 'base64').subarray(0, 32).toString('hex'), seed[1]);
  assert.match(script, /"farm-test-1:" \+ base64\.b64encode\(seed \+ pub\)/);
  assert.match(script, /for c in none xz; do/);
});

test('the generators and capture drivers use the Nix commands the vectors claim', () => {
  const gen = (f: string) => readVectorText(f);
  assert.match(gen('tools/gen_hashes.py'), /run\("nix-hash", "--type", algo, "--to-base32", hx\)/);
  assert.match(gen('tools/gen_hashes.py'), /"alphabet": nixref\.NIX32/);
  assert.equal(readVectorJson<{ alphabet: string }>('hashes.json').alphabet, NIX32_ALPHABET);
  assert.match(gen('tools/gen_drvs.py'), /run\("nix-instantiate", os\.path\.join\(HERE, "default\.nix"\), "-A", attr/);
  assert.match(gen('tools/gen_drvs.py'), /"show-derivation", drv_path/);
  assert.match(gen('tools/gen_storepaths.py'), /run\("nix-store", "--add-fixed", \*args, fspath\)/);
  assert.match(gen('tools/gen_storepaths.py'), /"--read-write-mode", f"\{HERE\}\/storepaths\.nix"/);
  const nar = gen('tools/gen_nar.py');
  const trees = readVectorJson<{ nars: Array<{ name: string; narBase64: string }> }>('nar.json').nars;
  // Every file content gen_nar.py writes ends up, byte for byte, inside one of the recorded NARs.
  const contents = [...nar.matchAll(/^w\(f"\{ROOT\}\/[^"]+", b"((?:[^"\\]|\\.)*)"/gm)].map((m) => m[1]!.replace(/\\n/g, '\n'));
  assert.ok(contents.length >= 5);
  for (const c of contents) assert.ok(trees.some((t) => Buffer.from(t.narBase64, 'base64').includes(Buffer.from(c))), JSON.stringify(c));
  assert.match(nar, /os\.symlink\("\/nix\/store\/some-target\/bin\/x"/);
  assert.ok(Buffer.from(trees.find((t) => t.name === 'symlink')!.narBase64, 'base64').includes(Buffer.from('/nix/store/some-target/bin/x')));
  const runCaptures = gen('tools/run_captures.sh');
  assert.match(runCaptures, /NOSUB=\(--option substituters ''\)/);
  assert.match(runCaptures, /--realise "\$drv" --max-jobs 0 "\$\{NOSUB\[@\]\}"/);
});

test('tools/package.py describes each transcript with the exact client command recorded in it', () => {
  const pkg = readVectorText('tools/package.py');
  const p = /^P = "([^"]+)"$/m.exec(pkg)![1]!;
  const realise = /^REALISE = "([^"]+)"$/m.exec(pkg)![1]!;
  const t = readVectorJson<{ scenario: string; clientCommand: string }>('transcripts/serve-offload-1.json');
  assert.equal(t.scenario, 'serve-offload-1');
  assert.equal(t.clientCommand, realise.replace('{b}', `${p} x86_64-linux`));
});

test('tools/sessions.py fixtures (client-runs/sessions.out, direct-sessions-server-stderr.json) are the paths of the binary cache', () => {
  const sessions = readVectorText('tools/sessions.py');
  assert.match(sessions, /subprocess\.Popen\(\[f"\{V\}\/cap\/proxy"\] \+ args/, 'scripted sessions talk through the capturing proxy');
  const out = JSON.parse(readVectorText('client-runs/sessions.out')) as { fixtures: Record<string, unknown>; serve: { serverExit: number } };
  const stderr = readVectorJson<{ fixtures: Record<string, unknown>; serve: { serverStderrTail: string } }>('client-runs/direct-sessions-server-stderr.json');
  assert.deepEqual(stderr.fixtures, out.fixtures);
  const cachePaths = new Set(readBinaryCacheVectors().caches.none.narinfos.map((e) => e.narinfo.split('\n')[0]!.slice('StorePath: '.length)));
  for (const k of ['A', 'B', 'C', 'HELLO']) assert.ok(cachePaths.has(out.fixtures[k] as string), k);
  assert.equal(out.serve.serverExit, 1, 'the serve session ends with the server failing on an invalid path');
  assert.match(stderr.serve.serverStderrTail, /error: path '\/nix\/store\/0{32}-not-there' is not valid\n$/);
});
