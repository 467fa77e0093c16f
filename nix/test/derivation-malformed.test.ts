/**
 * Hostile and malformed `.drv` input: every prefix of real ATerms, every byte corrupted, seeded
 * random mutations, bad escapes, unsorted/duplicate entries, invalid and traversing store paths,
 * inconsistent outputs, 1e6-deep nesting and 10 MB strings. Every rejection must be a
 * NixFormatError with code BAD_DERIVATION and a byte offset inside the input; everything the
 * parser accepts must re-serialise to exactly the input bytes.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { NixFormatError, parseDerivation, serialiseDerivationBytes } from '../src/index.js';
import { loadDerivationVectors } from './derivation-fixtures.js';

const vectors = loadDerivationVectors().derivations;
const TOP = Buffer.from(vectors['top']!.aterm, 'utf8');
const ESCAPES = Buffer.from(vectors['escapes']!.aterm, 'utf8');
const FIXED = vectors['fixedRec']!.aterm;
const MULTI = vectors['multi']!.aterm;

/** Parses `input`; returns the typed error, or undefined after checking the exact round trip. */
function parseOrError(input: Uint8Array, label: string): NixFormatError | undefined {
  try {
    const drv = parseDerivation(input);
    assert.deepEqual(Buffer.from(serialiseDerivationBytes(drv)), Buffer.from(input), `${label}: accepted input must round-trip`);
    return undefined;
  } catch (e) {
    if (e instanceof assert.AssertionError) throw e;
    assert.ok(e instanceof NixFormatError, `${label}: non-typed error ${String(e)}`);
    assert.equal(e.code, 'BAD_DERIVATION', `${label}: ${e.message}`);
    assert.equal(typeof e.offset, 'number', `${label}: no offset in ${e.message}`);
    assert.ok((e.offset as number) >= 0 && (e.offset as number) <= input.length, `${label}: offset ${e.offset} outside input`);
    return e;
  }
}

function rejects(input: string | Uint8Array, label: string, expect?: { offset?: number; message?: RegExp }): NixFormatError {
  const bytes = typeof input === 'string' ? Buffer.from(input, 'utf8') : input;
  const e = parseOrError(bytes, label);
  assert.ok(e !== undefined, `${label}: should have been rejected`);
  if (expect?.offset !== undefined) assert.equal(e.offset, expect.offset, `${label}: ${e.message}`);
  if (expect?.message !== undefined) assert.match(e.message, expect.message, label);
  return e;
}

test('every proper prefix of two real ATerms is rejected with an offset within the prefix', () => {
  for (const full of [TOP, ESCAPES]) {
    for (let n = 0; n < full.length; n++) rejects(full.subarray(0, n), `prefix ${n}`);
    assert.equal(parseOrError(full, 'full'), undefined);
  }
});

test('every byte of a real ATerm corrupted to 7 values: typed error or exact round trip', () => {
  const replacements = [0x00, 0x22, 0x5c, 0x29, 0x2c, 0x78, 0xff];
  let rejected = 0;
  for (let i = 0; i < TOP.length; i++) {
    for (const r of replacements) {
      if (TOP[i] === r) continue;
      const copy = Buffer.from(TOP);
      copy[i] = r;
      if (parseOrError(copy, `byte ${i} := 0x${r.toString(16)}`) !== undefined) rejected++;
    }
  }
  assert.ok(rejected > TOP.length * 3, `only ${rejected} corruptions rejected`);
});

test('seeded random multi-byte mutations never escape as untyped errors (seed printed on failure)', () => {
  const seed = 0x5eed1234;
  let state = seed;
  const rand = () => {
    state = (state + 0x6d2b79f5) | 0;
    let t = Math.imul(state ^ (state >>> 15), 1 | state);
    t = (t + Math.imul(t ^ (t >>> 7), 61 | t)) ^ t;
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
  const alphabet = Buffer.from('()[],"\\abc/0123456789-.:\n\t\xff');
  for (let iter = 0; iter < 3000; iter++) {
    const base = iter % 2 === 0 ? TOP : ESCAPES;
    let bytes = Buffer.from(base);
    const edits = 1 + Math.floor(rand() * 4);
    for (let k = 0; k < edits; k++) {
      const at = Math.floor(rand() * bytes.length);
      const op = rand();
      const b = alphabet[Math.floor(rand() * alphabet.length)]!;
      if (op < 0.4) bytes[at] = b;
      else if (op < 0.7) bytes = Buffer.concat([bytes.subarray(0, at), Buffer.from([b]), bytes.subarray(at)]);
      else bytes = Buffer.concat([bytes.subarray(0, at), bytes.subarray(at + 1 + Math.floor(rand() * 8))]);
    }
    parseOrError(bytes, `seed ${seed} iteration ${iter}`);
  }
});

test('bad escapes and backslashes in raw fields are rejected at the backslash', () => {
  const base = vectors['simple']!.aterm;
  const at = base.indexOf('echo hello');
  rejects(base.replace('echo hello', 'echo \\a hello'), 'unknown escape', { offset: at + 5, message: /invalid escape/ });
  rejects(base.replace('echo hello', 'echo \\x41'), 'hex escape', { message: /invalid escape/ });
  rejects(base.replace('"x86_64-linux"', '"x86\\_64-linux"'), 'escape in system', { message: /backslash/ });
  rejects(base.replace('("out",', '("o\\ut",'), 'escape in output name', { message: /backslash/ });
  rejects(base.replace('echo hello', 'echo\nhello'), 'raw newline in args', { message: /raw control/ });
  rejects(base.replace('echo hello', 'echo\thello'), 'raw tab in args', { message: /raw control/ });
  rejects('Derive([("out","","","")],[],[],"s","\\', 'backslash at end of input', { message: /unterminated escape/ });
  // Accepted escapes round-trip.
  assert.equal(parseOrError(Buffer.from(base.replace('echo hello', 'a\\"b\\\\c\\nd\\re\\tf')), 'good escapes'), undefined);
});

test('unsorted and duplicate outputs, inputs, sources, env names and input output names', () => {
  const m = MULTI;
  const swapOutputs = m.replace(/^Derive\(\[(\("dev",[^)]*\)),(\("out",[^)]*\))\]/, 'Derive([$2,$1]');
  assert.notEqual(swapOutputs, m);
  rejects(swapOutputs, 'outputs out of order', { message: /out of order/ });
  const dupOutput = m.replace(/^Derive\(\[(\("dev",[^)]*\)),(\("out",[^)]*\))\]/, 'Derive([$1,$1]');
  rejects(dupOutput, 'duplicate output', { message: /duplicate output name/ });
  const top = vectors['top']!.aterm;
  const inputs = /\],\[(\("\/nix\/store\/[^)]*\)),(\("\/nix\/store\/[^)]*\))/.exec(top)!;
  rejects(top.replace(`${inputs[1]},${inputs[2]}`, `${inputs[2]},${inputs[1]}`), 'inputDrvs out of order', { message: /out of order/ });
  rejects(top.replace(`${inputs[1]},${inputs[2]}`, `${inputs[1]},${inputs[1]}`), 'duplicate inputDrv', { message: /duplicate input derivation/ });
  rejects(top.replace('["dev"]', '["out","dev"]'), 'input output names unsorted', { message: /out of order/ });
  rejects(top.replace('["dev"]', '["dev","dev"]'), 'input output names duplicated', { message: /duplicate/ });
  rejects(top.replace('["dev"]', '[]'), 'input with no outputs', { message: /lists no outputs/ });
  const withSrc = vectors['withSrc']!.aterm;
  const src = /\],\["(\/nix\/store\/[^"]*)"\]/.exec(withSrc)![1]!;
  rejects(withSrc.replace(`["${src}"]`, `["${src}","${src}"]`), 'duplicate source', { message: /duplicate input source/ });
  rejects(withSrc.replace(`["${src}"]`, `["${src}","/nix/store/00000000000000000000000000000000-a"]`), 'sources unsorted', { message: /out of order/ });
  const s = vectors['simple']!.aterm;
  rejects(s.replace('("PATH","/usr/bin:/bin"),("builder"', '("builder","/bin/sh"),("PATH","/usr/bin:/bin"),("builder"'), 'env unsorted', {
    message: /out of order/,
  });
  rejects(s.replace('("PATH","/usr/bin:/bin")', '("PATH","a"),("PATH","b")'), 'env duplicate', { message: /duplicate env name/ });
  // Bytewise, not locale order: "Z" < "a" < "é"; the reverse is rejected.
  rejects(s.replace('("PATH","/usr/bin:/bin")', '("a","1"),("Z","2")'), 'env uppercase after lowercase', { message: /out of order/ });
});

test('invalid store paths and path traversal in output, input and source fields', () => {
  const s = vectors['simple']!.aterm;
  const out = /^Derive\(\[\("out","([^"]*)"/.exec(s)![1]!;
  const bad = [
    '/nix/store/../etc/passwd',
    '/nix/store/..',
    '/etc/passwd',
    '/nix/store/00000000000000000000000000000000-x/../../etc',
    '/nix/store/e0000000000000000000000000000000-x',
    '/nix/store/0000000000000000000000000000000-short',
    '/nix/store/00000000000000000000000000000000-',
    '/nix/store/00000000000000000000000000000000-bad name',
    '/nix/storeX/00000000000000000000000000000000-x',
    'relative/path',
  ];
  for (const p of bad) {
    rejects(s.replace(`("out","${out}"`, `("out","${p}"`), `output path ${p}`, { offset: 8 });
    rejects(s.replace('")],[],[],"x86_64-linux"', `")],[("${p}",["out"])],[],"x86_64-linux"`), `input drv ${p}`, { message: /input derivation path/ });
    rejects(s.replace('")],[],[],"x86_64-linux"', `")],[],["${p}"],"x86_64-linux"`), `input src ${p}`, { message: /input source path/ });
  }
  rejects(s.replace('")],[],[],"x86_64-linux"', `")],[("/nix/store/00000000000000000000000000000000-x",["out"])],[],"x86_64-linux"`), 'input drv not .drv', {
    message: /does not end in \.drv/,
  });
  rejects(s.replace('("out",', '("o/ut",'), 'output name with slash', { message: /not a valid output name/ });
  rejects(s.replace('("out",', '("",'), 'empty output name', { message: /not a valid output name/ });
});

test('output kind inconsistencies', () => {
  const fixedOut = /^Derive\(\[(\("out",[^)]*\))\]/.exec(FIXED)![1]!;
  const hash = /"r:sha256","([0-9a-f]{64})"/.exec(FIXED)![1]!;
  const cases: [string, string, RegExp][] = [
    ['fixed with two outputs', FIXED.replace(fixedOut, `("dev","/nix/store/00000000000000000000000000000000-fixed-rec-dev","r:sha256","${hash}"),${fixedOut}`), /exactly one output/],
    ['fixed named dev', FIXED.replace('("out","/nix', '("dev","/nix'), /exactly one output, named out/],
    ['unknown algo', FIXED.replace('"r:sha256"', '"r:sha3"'), /unknown output hash algorithm/],
    ['wrong hash length', FIXED.replace(hash, hash.slice(2)), /64 lowercase base16/],
    ['upper-case hash', FIXED.replace(hash, hash.toUpperCase()), /lowercase base16/],
    ['nix32 hash', FIXED.replace(hash, '01ck5rvyzqybzm60d7600qxnf699pxcdy4743f8li7mb5y0ckn4b'), /lowercase base16/],
    ['hash without algo', FIXED.replace('"r:sha256"', '""'), /hash but no hash algorithm/],
    ['fixed without path', FIXED.replace(/\("out","[^"]*","r:sha256"/, '("out","","r:sha256"'), /empty path/],
    ['floating with a path', FIXED.replace(`"${hash}"`, '""'), /floating .* must have an empty path/],
    ['impure with a path', FIXED.replace(`"${hash}"`, '"impure"'), /impure output .* empty path/],
    ['mixed input-addressed and deferred', MULTI.replace(/^Derive\(\[\("dev","[^"]*"/, 'Derive([("dev",""'), /cannot mix/],
    ['no outputs', 'Derive([],[],[],"s","b",[],[])', /at least one output/],
  ];
  for (const [label, text, re] of cases) {
    assert.notEqual(text, FIXED, label);
    rejects(text, label, { message: re });
  }
  // Consistent non-static kinds are accepted and round-trip.
  assert.equal(parseOrError(Buffer.from('Derive([("out","","r:sha256","")],[],[],"s","b",[],[])'), 'floating'), undefined);
  assert.equal(parseOrError(Buffer.from('Derive([("dev","","",""),("out","","","")],[],[],"s","b",[],[])'), 'deferred'), undefined);
  assert.equal(parseOrError(Buffer.from('Derive([("out","","sha256","impure")],[],[],"s","b",[],[])'), 'impure'), undefined);
});

test('structural garbage: bad keyword, whitespace, trailing data, empty input, non-UTF-8', () => {
  const s = vectors['simple']!.aterm;
  rejects('', 'empty', { offset: 0, message: /expected 'Derive\('/ });
  rejects(`derive${s.slice(6)}`, 'lower-case keyword', { offset: 0 });
  rejects(` ${s}`, 'leading space', { offset: 0 });
  rejects(s.replace('],[],[],', '], [],[],'), 'space between lists', { message: /expected '\['/ });
  rejects(`${s}\n`, 'trailing newline', { offset: s.length, message: /trailing data/ });
  rejects(`${s}${s}`, 'two derivations', { offset: s.length });
  const nonUtf8 = Buffer.from(s.replace('/usr/bin:/bin', 'XX'), 'utf8');
  nonUtf8[nonUtf8.indexOf('XX')] = 0xc3;
  nonUtf8[nonUtf8.indexOf('X')] = 0x28;
  rejects(nonUtf8, 'invalid UTF-8 in env value', { message: /not valid UTF-8/ });
});

test('1e6-deep nesting is rejected at the first unexpected bracket', () => {
  rejects(`Derive(${'['.repeat(1_000_000)}`, 'deep [', { offset: 8, message: /expected '\('/ });
  rejects(`Derive([${'('.repeat(1_000_000)}`, 'deep (', { offset: 9 });
  rejects(`Derive([("out","","",""),${'['.repeat(1_000_000)}`, 'deep after output', { message: /expected '\('/ });
  rejects('Derive('.repeat(200_000), 'repeated keyword', { offset: 7 });
});

test('10 MB strings: accepted when well-formed (exact round trip), typed errors when not', () => {
  const big = 'x'.repeat(10 * 1024 * 1024);
  const s = vectors['simple']!.aterm;
  const ok = s.replace('("PATH","/usr/bin:/bin")', `("PATH","${big}")`);
  const drv = parseDerivation(ok);
  assert.equal(drv.env.get('PATH')!.length, big.length);
  const bigEscaped = s.replace('("PATH","/usr/bin:/bin")', `("PATH","${'\\n'.repeat(1024 * 1024)}é")`);
  assert.equal(parseOrError(Buffer.from(bigEscaped), 'many escapes'), undefined);
  const unterminated = `Derive([("out","","","")],[],[],"s","${big}`;
  rejects(unterminated, 'unterminated 10 MB string', { offset: unterminated.length, message: /unterminated string/ });
  const badEscapeAtEnd = s.replace('("PATH","/usr/bin:/bin")', `("PATH","${big}\\q")`);
  rejects(badEscapeAtEnd, 'bad escape after 10 MB', { offset: badEscapeAtEnd.indexOf('\\q'), message: /invalid escape/ });
  const e = rejects(s.replace('("PATH","/usr/bin:/bin")', `("${big}","1"),("${big}","2")`), 'duplicate 10 MB env name');
  assert.ok(e.message.length < 1000, 'error message does not echo the 10 MB key');
  rejects(`Derive([("out","/nix/store/${big}","","")],[],[],"s","b",[],[])`, '10 MB output path');
});
