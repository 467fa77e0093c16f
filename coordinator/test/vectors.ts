/**
 * Locates `shared/vectors` (the Nix 2.8 test vectors). The repository is checked out next to
 * `shared/` (…/main and …/shared), so we look beside the repo root first; FARM_VECTORS
 * overrides. A missing directory is an error, never a skip: tests must be able to fail.
 */
import { existsSync, readFileSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';

const here = dirname(fileURLToPath(import.meta.url));
/** The repository root (this file compiles to coordinator/dist/test/). */
export const REPO_ROOT = resolve(here, '..', '..', '..');

function findVectors(): string {
  const candidates = [process.env['FARM_VECTORS'], join(REPO_ROOT, '..', 'shared', 'vectors'), join(REPO_ROOT, 'shared', 'vectors')];
  for (const c of candidates) if (c !== undefined && c !== '' && existsSync(join(c, 'README.md'))) return resolve(c);
  throw new Error(`shared/vectors not found (looked in ${candidates.filter(Boolean).join(', ')}); set FARM_VECTORS`);
}

export const VECTORS_DIR = findVectors();

export function vectorPath(rel: string): string {
  return join(VECTORS_DIR, rel);
}

export function readVectorJson<T = any>(rel: string): T {
  return JSON.parse(readFileSync(vectorPath(rel), 'utf8')) as T;
}

export function readVectorText(rel: string): string {
  return readFileSync(vectorPath(rel), 'utf8');
}
