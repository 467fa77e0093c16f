/**
 * Guard: every file under shared/vectors is exercised by some test. A vector file counts as
 * covered when its path relative to the vectors directory (e.g. `client-runs/features-A.out`,
 * `tools/cap/proxy`) appears literally in at least one test source under nix/test (the .ts
 * sources, not dist). A new vector without a test fails here, naming the file.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync, readdirSync } from 'node:fs';
import { join, relative, sep } from 'node:path';
import { REPO_ROOT, VECTORS_DIR } from './vectors.js';

function walk(dir: string): string[] {
  return readdirSync(dir, { withFileTypes: true }).flatMap((e) => (e.isDirectory() ? walk(join(dir, e.name)) : [join(dir, e.name)]));
}

const testDir = join(REPO_ROOT, 'nix', 'test');
const vectorFiles = walk(VECTORS_DIR).map((f) => relative(VECTORS_DIR, f).split(sep).join('/')).sort();
const sources = walk(testDir)
  .filter((f) => f.endsWith('.ts'))
  .map((f) => ({ name: relative(testDir, f), text: readFileSync(f, 'utf8') }));

test('the vectors directory and the test sources were found', () => {
  assert.ok(vectorFiles.includes('README.md') && vectorFiles.includes('binary-cache.json'), VECTORS_DIR);
  assert.ok(vectorFiles.length >= 60, `only ${vectorFiles.length} vector files found`);
  assert.ok(sources.some((s) => s.name === 'vectors-coverage.test.ts'), testDir);
});

test('every vector file is mentioned by at least one test source under nix/test', () => {
  // This file names no vector paths itself except the two sanity checks above, so it cannot cover them all.
  const mentioned = (rel: string) => sources.some((s) => s.name !== 'vectors-coverage.test.ts' && s.text.includes(rel));
  const uncovered = vectorFiles.filter((rel) => !mentioned(rel));
  assert.deepEqual(uncovered, [], `vector files no test mentions:\n  ${uncovered.join('\n  ')}`);
});
