/**
 * `farm nar dump|hash|unpack` run as real processes against real Nix: dump must equal
 * `nix-store --dump`, hash must equal `nix-hash`, unpack must restore Nix's NARs; bad input
 * must give exit 1, one stderr line with the byte offset, and no partial output.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { closeSync, existsSync, mkdirSync, mkdtempSync, openSync, readFileSync, rmSync, statSync, symlinkSync, writeFileSync, chmodSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';

const farmBin = fileURLToPath(new URL('../../bin/farm', import.meta.url));

function run(cmd: string, args: string[], input?: Buffer) {
  const r = spawnSync(cmd, args, { input, maxBuffer: 1 << 28 });
  assert.equal(r.error, undefined, `${cmd} could not run: ${String(r.error)}`);
  return r;
}

function withTree(fn: (root: string, tmp: string) => void): void {
  const tmp = mkdtempSync(join(tmpdir(), 'farm-nar-cli-'));
  try {
    const root = join(tmp, 'tree');
    mkdirSync(join(root, 'bin'), { recursive: true });
    writeFileSync(join(root, 'bin', 'run'), '#!/bin/sh\necho hi\n');
    chmodSync(join(root, 'bin', 'run'), 0o755);
    writeFileSync(join(root, 'B.txt'), 'capital');
    writeFileSync(join(root, 'a b ü'), Buffer.alloc(600_001, 3));
    mkdirSync(join(root, 'empty'));
    symlinkSync('bin/run', join(root, 'link'));
    fn(root, tmp);
  } finally {
    rmSync(tmp, { recursive: true, force: true });
  }
}

test('farm nar dump PATH writes exactly what nix-store --dump writes', () => {
  withTree((root) => {
    const ours = run(farmBin, ['nar', 'dump', root]);
    assert.equal(ours.status, 0, ours.stderr.toString());
    const nix = run('nix-store', ['--dump', root]);
    assert.equal(nix.status, 0, nix.stderr.toString());
    assert.ok(ours.stdout.equals(nix.stdout), `dump differs: ${ours.stdout.length} vs ${nix.stdout.length} bytes`);
  });
});

test('farm nar hash prints nix-hash\'s hash and the NAR size; --json has every form', () => {
  withTree((root) => {
    const nixHash = run('nix-hash', ['--type', 'sha256', '--base32', root]).stdout.toString().trim();
    const nixHex = run('nix-hash', ['--type', 'sha256', root]).stdout.toString().trim();
    const size = run('nix-store', ['--dump', root]).stdout.length;
    const plain = run(farmBin, ['nar', 'hash', root]);
    assert.equal(plain.status, 0, plain.stderr.toString());
    assert.equal(plain.stdout.toString(), `sha256:${nixHash} ${size}\n`);
    const json = run(farmBin, ['nar', 'hash', '--json', root]);
    assert.equal(json.status, 0);
    const j = JSON.parse(json.stdout.toString());
    assert.deepEqual(j, {
      narHash: `sha256:${nixHash}`,
      narHashSRI: `sha256-${Buffer.from(nixHex, 'hex').toString('base64')}`,
      narHashBase16: nixHex,
      narSize: size,
    });
  });
});

test('farm nar unpack restores a nix-store --dump NAR that re-dumps identically', () => {
  withTree((root, tmp) => {
    const nar = run('nix-store', ['--dump', root]).stdout;
    const dest = join(tmp, 'restored');
    const r = run(farmBin, ['nar', 'unpack', dest], nar);
    assert.equal(r.status, 0, r.stderr.toString());
    assert.ok(run('nix-store', ['--dump', dest]).stdout.equals(nar));
    assert.equal(statSync(join(dest, 'bin', 'run')).mode & 0o777, 0o755);
    assert.equal(statSync(join(dest, 'B.txt')).mode & 0o777, 0o644);
  });
});

test('farm nar unpack of a truncated or trailing-garbage NAR: exit 1, one line with the offset, no DEST', () => {
  withTree((root, tmp) => {
    const nar = run('nix-store', ['--dump', root]).stdout;
    const dest = join(tmp, 'bad');
    for (const input of [nar.subarray(0, 70_500), Buffer.concat([nar, Buffer.alloc(8)]), Buffer.from('not a nar at all')]) {
      const r = run(farmBin, ['nar', 'unpack', dest], input);
      assert.equal(r.status, 1);
      const err = r.stderr.toString();
      assert.match(err, /^farm nar unpack: .*\(at byte \d+\)\n$/);
      assert.equal(existsSync(dest), false, 'partial output left behind');
    }
    const exists = run(farmBin, ['nar', 'unpack', root], nar.subarray(0, 64)); // small: DEST is checked before stdin is read
    assert.equal(exists.status, 1);
    assert.match(exists.stderr.toString(), /already exists/);
    assert.ok(existsSync(join(root, 'B.txt')), 'an existing DEST must be left alone');
  });
});

test('farm nar dump/hash of an unreadable or unsupported path: exit 1, no partial NAR in the output file', () => {
  withTree((root, tmp) => {
    const missing = run(farmBin, ['nar', 'dump', join(tmp, 'missing')]);
    assert.equal(missing.status, 1);
    assert.equal(missing.stdout.length, 0);
    assert.match(missing.stderr.toString(), /ENOENT/);
    assert.equal(run(farmBin, ['nar', 'hash', join(tmp, 'missing')]).status, 1);

    // A FIFO sorted after a 600 kB file (more than one output chunk): output has begun when the error is found.
    assert.equal(run('mkfifo', [join(root, 'zz-fifo')]).status, 0);
    const outPath = join(tmp, 'out.nar');
    const fd = openSync(outPath, 'w');
    try {
      const r = spawnSync(farmBin, ['nar', 'dump', root], { stdio: ['ignore', fd, 'pipe'] });
      assert.equal(r.status, 1);
      assert.match(r.stderr.toString(), /zz-fifo/);
    } finally {
      closeSync(fd);
    }
    assert.equal(readFileSync(outPath).length, 0, 'half a NAR was left in the output file');
    const hash = run(farmBin, ['nar', 'hash', root]);
    assert.equal(hash.status, 1);
    assert.equal(hash.stdout.length, 0);
  });
});

test('farm nar dump|hash|unpack --help describe the command with examples', () => {
  for (const sub of ['dump', 'hash', 'unpack']) {
    const r = run(farmBin, ['nar', sub, '--help']);
    assert.equal(r.status, 0);
    assert.match(r.stdout.toString(), new RegExp(`farm nar ${sub}`));
    assert.match(r.stdout.toString(), /Examples/);
  }
});
