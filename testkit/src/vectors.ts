/**
 * Locates `shared/vectors` (the Nix 2.8 test vectors) for tests above the nix package (nix's own
 * tests keep a copy, as nix may import no other workspace package). The repository is checked
 * out next to `shared/`, so we look beside the repo root first; FARM_VECTORS overrides. A missing
 * directory is an error, never a skip: tests must be able to fail.
 */
import { existsSync, readFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { REPO_ROOT } from './farm-process.js';

function findVectors(): string {
  const candidates = [process.env['FARM_VECTORS'], join(REPO_ROOT, '..', 'shared', 'vectors'), join(REPO_ROOT, 'shared', 'vectors')];
  for (const c of candidates) if (c !== undefined && c !== '' && existsSync(join(c, 'README.md'))) return resolve(c);
  throw new Error(`shared/vectors not found (looked in ${candidates.filter(Boolean).join(', ')}); set FARM_VECTORS`);
}

let dir: string | undefined;

export function vectorPath(rel: string): string {
  dir ??= findVectors();
  return join(dir, rel);
}

export function readVectorJson<T = unknown>(rel: string): T {
  return JSON.parse(readFileSync(vectorPath(rel), 'utf8')) as T;
}
