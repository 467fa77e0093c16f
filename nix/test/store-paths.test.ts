/**
 * shared/vectors/store-paths.json: text paths with references, source paths, fixed paths
 * (flat and recursive, each algorithm) — paths, fingerprints, inner strings and the checkable
 * pathInfo fields (ca, and narHash/narSize of single-file NARs) — plus a run of the real
 * nix-instantiate on nix/storepaths.nix in a chroot store reproducing the same paths.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { copyFileSync, mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import {
  Hash,
  fixedOutputInnerString,
  makeFixedOutputPath,
  makeSourcePath,
  makeTextPathFromContents,
  renderContentAddress,
  sha256,
  sortedBytewise,
  storePathFingerprint,
  type HashAlgo,
} from '../src/index.js';
import { makeTempDir, runNix } from './nix-tool.js';
import { readVectorJson, vectorPath } from './vectors.js';

interface PathInfo {
  path: string;
  narHash: string;
  narSize: number;
  references: string[];
  ca: string;
}
interface TextPath {
  attr: string;
  path: string;
  name: string;
  contents: string;
  references: string[];
  contentSha256: string;
  fingerprint: string;
  pathInfo: PathInfo;
}
interface SourcePath {
  how: string;
  path: string;
  name: string;
  narHashBase16: string;
  fingerprint: string;
  pathInfo: PathInfo;
}
interface FixedPath {
  how: string;
  command?: string;
  path: string;
  name?: string;
  recursive?: boolean;
  hashAlgo?: HashAlgo;
  digestBase16?: string;
  innerString?: string;
  fingerprint?: string;
  pathInfo: PathInfo;
}
const v = readVectorJson<{ textPaths: TextPath[]; sourcePaths: SourcePath[]; fixedPaths: FixedPath[]; expression: string }>('store-paths.json');

/** The NAR of a single non-executable regular file (spec §3), enough for these vectors. */
function narOfRegularFile(contents: Uint8Array): Buffer {
  const str = (s: Uint8Array | string) => {
    const b = typeof s === 'string' ? Buffer.from(s) : Buffer.from(s);
    const len = Buffer.alloc(8);
    len.writeBigUInt64LE(BigInt(b.length));
    return Buffer.concat([len, b, Buffer.alloc((8 - (b.length % 8)) % 8)]);
  };
  return Buffer.concat(['nix-archive-1', '(', 'type', 'regular', 'contents'].map(str).concat([str(contents), str(')')]));
}

const HELLO = Buffer.from('hello\n');

test('text paths: path, fingerprint with sorted references, ca, narHash and narSize', () => {
  assert.equal(v.textPaths.length, 3);
  for (const t of v.textPaths) {
    const h = sha256(t.contents);
    assert.equal(h.base16, t.contentSha256, t.attr);
    const type = ['text', ...sortedBytewise(t.references)].join(':');
    assert.equal(storePathFingerprint(type, h, t.name), t.fingerprint, t.attr);
    assert.equal(makeTextPathFromContents(t.name, t.contents, [...t.references].reverse()), t.path, t.attr);
    assert.equal(renderContentAddress({ method: 'text', hash: h }), t.pathInfo.ca, t.attr);
    const nar = narOfRegularFile(Buffer.from(t.contents));
    assert.equal(Hash.of('sha256', nar).encode('sri'), t.pathInfo.narHash, t.attr);
    assert.equal(nar.length, t.pathInfo.narSize, t.attr);
    assert.deepEqual(t.pathInfo.references, t.references, t.attr);
    assert.equal(t.pathInfo.path, t.path);
  }
});

test('source paths: NAR sha256 of hello.txt under two names', () => {
  assert.equal(v.sourcePaths.length, 2);
  const nar = narOfRegularFile(HELLO);
  for (const s of v.sourcePaths) {
    const h = Hash.parseUnprefixed(s.narHashBase16, 'sha256');
    assert.ok(h.equals(Hash.of('sha256', nar)), s.how);
    assert.equal(storePathFingerprint('source', h, s.name), s.fingerprint, s.how);
    assert.equal(makeSourcePath(s.name, h), s.path, s.how);
    assert.equal(makeFixedOutputPath('recursive', h, s.name), s.path, s.how);
    assert.equal(s.pathInfo.narHash, h.encode('sri'));
    assert.equal(s.pathInfo.narSize, nar.length);
    assert.equal(renderContentAddress({ method: 'fixed', ingestion: 'recursive', hash: h }), s.pathInfo.ca, s.how);
  }
});

test('fixed paths: flat sha256/sha1/sha512, recursive sha256/sha1 — path, inner string, fingerprint, ca', () => {
  let checked = 0;
  for (const f of v.fixedPaths) {
    // The builtins.path flat entry carries no digest fields; it is the flat sha256 of hello.txt.
    const algo = f.hashAlgo ?? 'sha256';
    const method = f.recursive === true ? 'recursive' : 'flat';
    const name = f.name ?? f.path.slice('/nix/store/'.length + 33);
    const h = Hash.parseUnprefixed(f.digestBase16 ?? sha256(HELLO).base16, algo);
    if (method === 'flat') assert.ok(h.equals(Hash.of(algo, HELLO)), f.how);
    assert.equal(makeFixedOutputPath(method, h, name), f.path, f.how);
    if (f.innerString !== undefined) assert.equal(fixedOutputInnerString(method, h), f.innerString, f.how);
    if (f.fingerprint !== undefined) {
      const fp =
        method === 'recursive' && algo === 'sha256'
          ? storePathFingerprint('source', h, name)
          : storePathFingerprint('output:out', sha256(fixedOutputInnerString(method, h)), name);
      assert.equal(fp, f.fingerprint, f.how);
    }
    assert.equal(renderContentAddress({ method: 'fixed', ingestion: method, hash: h }), f.pathInfo.ca, f.how);
    if (f.how.includes('hello') || f.command?.includes('hello.txt') || name.includes('hello')) {
      const nar = narOfRegularFile(HELLO);
      assert.equal(f.pathInfo.narHash, Hash.of('sha256', nar).encode('sri'), f.how);
      assert.equal(f.pathInfo.narSize, nar.length, f.how);
    }
    checked++;
  }
  assert.equal(checked, 6);
});

test('nix-instantiate of nix/storepaths.nix in a chroot store yields exactly the vector paths', () => {
  const tmp = makeTempDir('farm-storepaths-');
  try {
    const work = join(tmp.dir, 'expr');
    mkdirSync(join(work, 'srcs'), { recursive: true });
    copyFileSync(vectorPath('nix/storepaths.nix'), join(work, 'storepaths.nix'));
    writeFileSync(join(work, 'srcs', 'hello.txt'), HELLO);
    const out = runNix('nix-instantiate', ['--store', join(tmp.dir, 'store'), '--eval', '--strict', '--json', join(work, 'storepaths.nix')]);
    const paths = JSON.parse(out) as Record<string, string>;
    const byAttr = Object.fromEntries(v.textPaths.map((t) => [t.attr, t.path]));
    assert.equal(paths['toFileNoRefs'], byAttr['toFileNoRefs']);
    assert.equal(paths['toFileOneRef'], byAttr['toFileOneRef']);
    assert.equal(paths['toFileThreeRefs'], byAttr['toFileThreeRefs']);
    assert.equal(paths['pathLiteral'], v.sourcePaths.find((s) => s.how === 'pathLiteral')!.path);
    assert.equal(paths['builtinsPathRenamed'], v.sourcePaths.find((s) => s.how === 'builtinsPathRenamed')!.path);
    assert.equal(paths['builtinsPathFlat'], v.fixedPaths.find((f) => f.how.startsWith('builtins.path'))!.path);
    // And our own computation agrees with what Nix just wrote.
    assert.equal(makeTextPathFromContents('a.txt', 'plain text, no references\n'), paths['toFileNoRefs']);
  } finally {
    tmp.dispose();
  }
});
