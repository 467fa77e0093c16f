/**
 * `farm drv show` run as a real process on derivations.json ATerms written to temp files: the
 * JSON equals Nix's show-derivation plus a `farm` check object; tampered files report
 * `"matches": false`; --root and --store-dir find inputs elsewhere; malformed files and missing
 * inputs give one stderr line, exit 1 and an empty stdout.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { basename, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';

const farmBin = fileURLToPath(new URL('../../bin/farm', import.meta.url));
const repoRoot = resolve(fileURLToPath(new URL('../../..', import.meta.url)));
const vectorsDir = process.env['FARM_VECTORS'] ?? join(repoRoot, '..', 'shared', 'vectors');

interface Vector {
  attr: string;
  drvPath: string;
  aterm: string;
  outputs: Record<string, string>;
  showDerivation: Record<string, unknown>;
}
const vectors = (JSON.parse(readFileSync(join(vectorsDir, 'derivations.json'), 'utf8')) as { derivations: Record<string, Vector> }).derivations;
const V = (attr: string) => vectors[attr]!;

function farm(...args: string[]) {
  return spawnSync(farmBin, args, { encoding: 'utf8' });
}

function withTempStore(fn: (dir: string) => void): void {
  const dir = mkdtempSync(join(tmpdir(), 'farm-drv-show-'));
  try {
    for (const v of Object.values(vectors)) writeFileSync(join(dir, basename(v.drvPath)), v.aterm);
    fn(dir);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

test('farm drv show prints show-derivation JSON plus matching farm checks for vector drvs', () => {
  withTempStore((dir) => {
    const picks = ['top', 'multi', 'fixedRec', 'escapes', 'withSrc'].map(V);
    const r = farm('drv', 'show', ...picks.map((v) => join(dir, basename(v.drvPath))));
    assert.equal(r.status, 0, r.stderr);
    assert.equal(r.stderr, '');
    const json = JSON.parse(r.stdout) as Record<string, Record<string, unknown> & { farm: any }>;
    assert.deepEqual(Object.keys(json).sort(), picks.map((v) => v.drvPath).sort());
    for (const v of picks) {
      const { farm: check, ...show } = json[v.drvPath]!;
      assert.deepEqual(show, v.showDerivation, v.attr);
      assert.deepEqual(check.drvPath, { path: v.drvPath, file: v.drvPath, matches: true }, v.attr);
      for (const [o, p] of Object.entries(v.outputs)) assert.deepEqual(check.outputs[o], { path: p, matches: true }, `${v.attr}.${o}`);
    }
  });
});

test('a tampered derivation reports matches: false for the drv path and the output it lies about', () => {
  withTempStore((dir) => {
    const v = V('chainB');
    const fake = '/nix/store/00000000000000000000000000000000-chain-b';
    const tampered = v.aterm.replace(`("out","${v.outputs['out']}","","")`, `("out","${fake}","","")`);
    assert.notEqual(tampered, v.aterm);
    writeFileSync(join(dir, basename(v.drvPath)), tampered);
    const r = farm('drv', 'show', join(dir, basename(v.drvPath)));
    assert.equal(r.status, 0, r.stderr);
    const check = (JSON.parse(r.stdout) as Record<string, { farm: any; outputs: any }>)[v.drvPath]!;
    assert.equal(check.farm.drvPath.matches, false);
    assert.deepEqual(check.farm.outputs.out, { path: v.outputs['out'], matches: false });
    assert.equal(check.outputs.out.path, fake);
  });
});

test('--root and --store-dir find input derivations of a file kept elsewhere', () => {
  withTempStore((dir) => {
    const root = join(dir, 'root');
    mkdirSync(join(root, 'nix', 'store'), { recursive: true });
    for (const v of Object.values(vectors)) writeFileSync(join(root, 'nix', 'store', basename(v.drvPath)), v.aterm);
    const alone = join(dir, 'alone');
    mkdirSync(alone);
    const top = V('top');
    const file = join(alone, basename(top.drvPath));
    writeFileSync(file, top.aterm);
    const missing = farm('drv', 'show', file);
    assert.equal(missing.status, 1);
    assert.equal(missing.stdout, '');
    assert.match(missing.stderr, /^farm drv show: .*: cannot read input derivation \/nix\/store\/\S+\.drv .*ENOENT\n$/);
    for (const opts of [['--root', root], ['--store-dir', join(root, 'nix', 'store')]]) {
      const r = farm('drv', 'show', ...opts, file);
      assert.equal(r.status, 0, r.stderr);
      const entry = (JSON.parse(r.stdout) as Record<string, { farm: any }>)[top.drvPath]!;
      assert.equal(entry.farm.outputs.out.matches, true, opts[0]);
      assert.equal(entry.farm.drvPath.matches, true, opts[0]);
    }
  });
});

test('a file not named like a store path is keyed by its recomputed drv path', () => {
  withTempStore((dir) => {
    const v = V('simple');
    const file = join(dir, 'upload.drv');
    writeFileSync(file, v.aterm);
    const r = farm('drv', 'show', file);
    assert.equal(r.status, 0, r.stderr);
    const entry = (JSON.parse(r.stdout) as Record<string, { farm: any }>)[v.drvPath]!;
    assert.deepEqual(entry.farm.drvPath, { path: v.drvPath, file: null, matches: false });
    assert.equal(entry.farm.outputs.out.matches, true);
  });
});

test('malformed files: one stderr line naming file and byte offset, exit 1, nothing on stdout', () => {
  withTempStore((dir) => {
    const good = join(dir, basename(V('simple').drvPath));
    const cases: [string, string | Buffer, RegExp][] = [
      ['truncated.drv', V('simple').aterm.slice(0, 40), /unterminated string .*at byte 40/],
      ['bad-escape.drv', V('simple').aterm.replace('echo hello', 'echo \\q'), /invalid escape .*at byte \d+/],
      ['traversal.drv', V('simple').aterm.replace(/"\/nix\/store\/[a-z0-9]{32}-simple"/, '"/nix/store/../etc/passwd"'), /invalid output path .*at byte 8/],
      ['empty.drv', '', /expected 'Derive\(' .*at byte 0/],
    ];
    for (const [name, contents, re] of cases) {
      const file = join(dir, name);
      writeFileSync(file, contents);
      // A good file first: output must still be empty because all files are checked before printing.
      const r = farm('drv', 'show', good, file);
      assert.equal(r.status, 1, name);
      assert.equal(r.stdout, '', name);
      const lines = r.stderr.split('\n').filter((l) => l !== '');
      assert.equal(lines.length, 1, r.stderr);
      assert.ok(lines[0]!.startsWith(`farm drv show: ${file}: `), lines[0]);
      assert.match(lines[0]!, re, name);
    }
    const r = farm('drv', 'show', join(dir, 'does-not-exist.drv'));
    assert.equal(r.status, 1);
    assert.match(r.stderr, /^farm drv show: .*does-not-exist\.drv: .*ENOENT/);
  });
});

test('farm drv show --help explains input lookup and gives examples', () => {
  const r = farm('drv', 'show', '--help');
  assert.equal(r.status, 0, r.stderr);
  for (const needle of ['nix show-derivation', '--store-dir', '--root', 'matches', 'farm drv show /nix/store/', 'Examples']) {
    assert.ok(r.stdout.includes(needle), needle);
  }
});
