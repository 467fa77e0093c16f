import { test } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { DurationModel, drvNameOf, durationKey, stripVersion } from '../src/index.js';

const H = '0123456789abcdfghijklmnpqrsvwxyz'; // 32 chars, all in Nix's base-32 alphabet
const drv = (name: string): string => `/nix/store/${H}-${name}.drv`;
const SYS = 'x86_64-linux';
const ARM = 'aarch64-linux';

/** name → Nix's `(builtins.parseDrvName name).name`. */
const NAME_CASES: ReadonlyArray<readonly [string, string]> = [
  ['hello-2.12.1', 'hello'],
  ['gcc-wrapper-12.2.0', 'gcc-wrapper'],
  ['python3.11-requests-2.31', 'python3.11-requests'],
  ['foo-bar', 'foo-bar'],
  ['x-1', 'x'],
  ['foo-', 'foo-'], // a trailing dash is followed by nothing: no split
  ['bash--1-2', 'bash'], // a dash is not a letter
  ['gcc-1-2', 'gcc'],
  ['xvidtune-?1-2', 'xvidtune'],
  ['7zip_archiver-0.2', '7zip_archiver'],
  ['nix-0.12pre12876', 'nix'],
  ['glibc-2.37-8', 'glibc'],
  ['source', 'source'],
  ['foo-_bar', 'foo'], // '_' is not a letter
  ['a-B-1', 'a-B'],
  ['-1', ''],
  ['perl5.36.0-Test-Simple-1.302', 'perl5.36.0-Test-Simple'],
  ['linux-6.1.0-rc1', 'linux'],
  ['foo-é', 'foo'], // Nix's isalpha is the C locale's: ASCII letters only
];

test('stripVersion follows the DrvName rule', () => {
  for (const [name, want] of NAME_CASES) assert.equal(stripVersion(name), want, name);
});

test('stripVersion agrees with the real Nix builtins.parseDrvName', () => {
  const list = NAME_CASES.map(([n]) => JSON.stringify(n)).join(' ');
  const out = execFileSync(
    'nix-instantiate',
    ['--eval', '--strict', '--json', '-E', `map (s: (builtins.parseDrvName s).name) [ ${list} ]`],
    { encoding: 'utf8' },
  );
  assert.deepEqual(JSON.parse(out), NAME_CASES.map(([n]) => stripVersion(n)));
});

test('drvNameOf takes the name from a store path and never throws on odd input', () => {
  assert.equal(drvNameOf(drv('hello-2.12.1')), 'hello-2.12.1');
  assert.equal(drvNameOf(`/nix/store/${H}-hello-2.12.1`), 'hello-2.12.1', 'no .drv suffix');
  assert.equal(drvNameOf(`/var/farm/store/${H}-x.drv`), 'x', 'another store dir');
  assert.equal(drvNameOf(`${H}-bare.drv`), 'bare', 'a basename alone');
  assert.equal(drvNameOf('/tmp/not-a-store-path.drv'), 'not-a-store-path.drv');
  assert.equal(drvNameOf(`/nix/store/${H.replace('a', 'e')}-bad.drv`), `${H.replace('a', 'e')}-bad.drv`, "'e' is not nix32");
  assert.equal(drvNameOf(''), '');
  assert.equal(drvNameOf('/'), '');
  assert.equal(durationKey(drv('gcc-wrapper-12.2.0'), SYS), 'gcc-wrapper|x86_64-linux');
});

test('the first observation sets the estimate, later ones move it by EWMA', () => {
  const m = new DurationModel({ alpha: 0.5 });
  m.observe(drv('hello-2.12.1'), SYS, 1000);
  assert.equal(m.estimateMs(drv('hello-2.12.1'), SYS), 1000);
  m.observe(drv('hello-2.12.2'), SYS, 3000); // a new version shares the key
  assert.equal(m.estimateMs(drv('hello-2.13'), SYS), 2000);
  m.observe(drv('hello-2.13'), SYS, 0);
  assert.equal(m.estimateMs(drv('hello'), SYS), 1000);
  assert.deepEqual(m.snapshot(), [['hello|x86_64-linux', 1000, 3]]);
});

test('the default alpha weighs a new observation by 0.3', () => {
  const m = new DurationModel();
  m.observe(drv('a-1'), SYS, 10_000);
  m.observe(drv('a-1'), SYS, 20_000);
  assert.equal(m.estimateMs(drv('a-1'), SYS), 13_000);
});

test('an unknown name gets the default; a name known for another system borrows its estimate', () => {
  const m = new DurationModel();
  assert.equal(m.estimateMs(drv('never-seen-1.0'), SYS), 60_000);
  assert.equal(new DurationModel({ defaultMs: 5 }).estimateMs(drv('x'), SYS), 5);

  m.observe(drv('gcc-12.2.0'), SYS, 600_000);
  assert.equal(m.estimateMs(drv('gcc-13.1.0'), ARM), 600_000, 'cross-system fallback');
  assert.equal(m.size, 1, 'a fallback estimate does not create a key');

  // Several systems know it: the one with the most samples is the better guess.
  m.observe(drv('gcc-12.2.0'), 'i686-linux', 900_000);
  m.observe(drv('gcc-12.2.0'), 'i686-linux', 900_000);
  assert.equal(m.estimateMs(drv('gcc-12.2.0'), ARM), 900_000);

  // Once built for this system, its own history wins.
  m.observe(drv('gcc-12.2.0'), ARM, 2_000_000);
  assert.equal(m.estimateMs(drv('gcc-12.2.0'), ARM), 2_000_000);
  assert.equal(m.estimateMs(drv('gcc-12.2.0'), SYS), 600_000);
});

test('garbage durations are ignored without a throw', () => {
  const m = new DurationModel();
  for (const bad of [Number.NaN, Number.POSITIVE_INFINITY, Number.NEGATIVE_INFINITY, -1, 'x' as unknown as number]) {
    m.observe(drv('a-1'), SYS, bad);
  }
  assert.equal(m.size, 0);
  m.observe(drv('a-1'), SYS, 100);
  m.observe(drv('a-1'), SYS, Number.NaN);
  m.observe(drv('a-1'), SYS, -5);
  assert.deepEqual(m.snapshot(), [['a|x86_64-linux', 100, 1]]);
  m.observe('not a path at all', SYS, 7);
  assert.equal(m.estimateMs('not a path at all', SYS), 7, 'odd paths are keys too');
});

test('beyond maxKeys the least recently observed or used key is evicted', () => {
  const m = new DurationModel({ maxKeys: 3 });
  m.observe(drv('a-1'), SYS, 1);
  m.observe(drv('b-1'), SYS, 2);
  m.observe(drv('c-1'), SYS, 3);
  m.estimateMs(drv('a-1'), SYS); // a is used: b is now the oldest
  m.observe(drv('d-1'), SYS, 4);
  assert.equal(m.size, 3);
  assert.deepEqual(m.snapshot().map(([k]) => k), ['c|x86_64-linux', 'a|x86_64-linux', 'd|x86_64-linux']);
  assert.equal(m.estimateMs(drv('b-1'), SYS), 60_000, 'b was evicted');

  m.observe(drv('c-1'), SYS, 30); // observing refreshes too: a is now the oldest
  m.observe(drv('e-1'), SYS, 5);
  assert.deepEqual(m.snapshot().map(([k]) => k), ['d|x86_64-linux', 'c|x86_64-linux', 'e|x86_64-linux']);

  // An evicted key no longer serves as a cross-system fallback.
  m.observe(drv('f-1'), ARM, 6);
  m.observe(drv('g-1'), SYS, 7);
  m.observe(drv('h-1'), SYS, 8);
  m.observe(drv('i-1'), SYS, 9);
  assert.equal(m.estimateMs(drv('f-1'), SYS), 60_000);
});

test('snapshot and fromSnapshot round-trip estimates, samples and recency', () => {
  const m = new DurationModel({ alpha: 0.5 });
  m.observe(drv('a-1'), SYS, 100);
  m.observe(drv('b-1'), ARM, 200);
  m.observe(drv('a-2'), SYS, 300);
  const rows = m.snapshot();
  assert.deepEqual(rows, [['b|aarch64-linux', 200, 1], ['a|x86_64-linux', 200, 2]]);

  const back = DurationModel.fromSnapshot(JSON.parse(JSON.stringify(rows)), { alpha: 0.5 });
  assert.deepEqual(back.snapshot(), rows);
  assert.equal(back.estimateMs(drv('b-9'), SYS), 200, 'the name index is rebuilt');
  back.observe(drv('a-3'), SYS, 400);
  assert.equal(back.estimateMs(drv('a-3'), SYS), 300);

  // Restoring into a smaller model keeps the most recent rows.
  const small = DurationModel.fromSnapshot(rows, { maxKeys: 1 });
  assert.deepEqual(small.snapshot(), [['a|x86_64-linux', 200, 2]]);
});

test('fromSnapshot skips malformed rows', () => {
  const rows: unknown = [
    ['ok|x86_64-linux', 10, 1],
    'not a row',
    null,
    ['short|x86_64-linux', 10],
    ['long|x86_64-linux', 10, 1, 'extra'],
    [42, 10, 1],
    ['nobar', 10, 1],
    ['nan|x86_64-linux', Number.NaN, 1],
    ['neg|x86_64-linux', -1, 1],
    ['strms|x86_64-linux', '10', 1],
    ['zero-samples|x86_64-linux', 10, 0],
    ['frac-samples|x86_64-linux', 10, 1.5],
    ['ok2|aarch64-linux', 0, 7],
  ];
  const m = DurationModel.fromSnapshot(rows);
  assert.deepEqual(m.snapshot(), [['ok|x86_64-linux', 10, 1], ['ok2|aarch64-linux', 0, 7]]);
  assert.equal(DurationModel.fromSnapshot({ not: 'an array' }).size, 0);
  assert.equal(DurationModel.fromSnapshot(undefined).size, 0);
});

test('invalid options are refused with INVALID_ARGUMENT', () => {
  for (const options of [{ alpha: 0 }, { alpha: 1.5 }, { alpha: Number.NaN }, { defaultMs: -1 }, { maxKeys: 0 }, { maxKeys: 2.5 }]) {
    assert.throws(() => new DurationModel(options), { name: 'FarmError', code: 'INVALID_ARGUMENT' }, JSON.stringify(options));
  }
  assert.equal(new DurationModel({ alpha: 1 }).size, 0);
});
