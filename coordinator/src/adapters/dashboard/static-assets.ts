/**
 * The page and its assets: `index.html` and the stylesheet from coordinator/dashboard/ (sources,
 * served as written), the browser scripts from what `tsc -b` compiled of coordinator/dashboard/src
 * (coordinator/dist/web/dashboard/src/). Both directories are found from this module's own URL,
 * so the coordinator serves them from its dist/ wherever the repository lives.
 *
 * Only flat file names of known types are served (no '/', no leading dot): a request can name
 * nothing outside these directories, whatever its encoding. Every response carries a Content
 * Security Policy that lets the page load only from the farm itself.
 */
import { readFile } from 'node:fs/promises';
import { extname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { ServerResponse } from 'node:http';

/** coordinator/dashboard/ (this file is coordinator/dist/src/adapters/dashboard/static-assets.js). */
export const DASHBOARD_SOURCE_DIR: string = fileURLToPath(new URL('../../../../dashboard/', import.meta.url));
/** What tsc made of coordinator/dashboard/src (rootDir coordinator/, outDir coordinator/dist/web). */
export const DASHBOARD_SCRIPT_DIR: string = fileURLToPath(new URL('../../../web/dashboard/src/', import.meta.url));

const CONTENT_TYPES: Readonly<Record<string, string>> = {
  '.html': 'text/html; charset=utf-8',
  '.css': 'text/css; charset=utf-8',
  '.js': 'text/javascript; charset=utf-8',
  '.svg': 'image/svg+xml',
};

/** A servable asset name: letters, digits, '.', '_', '-'; no path; a known type. */
const ASSET_NAME = /^[A-Za-z0-9_-][A-Za-z0-9._-]*$/;

export const CONTENT_SECURITY_POLICY =
  "default-src 'none'; script-src 'self'; style-src 'self'; connect-src 'self'; img-src 'self' data:; base-uri 'none'; form-action 'none'; frame-ancestors 'none'";

export interface AssetDirs {
  /** index.html, *.css, *.svg */
  readonly sourceDir: string;
  /** *.js */
  readonly scriptDir: string;
}

export const DEFAULT_ASSET_DIRS: AssetDirs = { sourceDir: DASHBOARD_SOURCE_DIR, scriptDir: DASHBOARD_SCRIPT_DIR };

/** The file behind an asset name, or undefined when the name is not one we serve. */
export function assetPath(dirs: AssetDirs, name: string): string | undefined {
  if (!ASSET_NAME.test(name) || name.includes('..')) return undefined;
  const ext = extname(name);
  if (CONTENT_TYPES[ext] === undefined) return undefined;
  return join(ext === '.js' ? dirs.scriptDir : dirs.sourceDir, name);
}

/** Sends the named asset (200), or 404 when it is not one; true when it was sent. */
export async function sendAsset(res: ServerResponse, dirs: AssetDirs, name: string): Promise<boolean> {
  const path = assetPath(dirs, name);
  if (path === undefined) return false;
  let body: Buffer;
  try {
    body = await readFile(path);
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code === 'ENOENT' || (e as NodeJS.ErrnoException).code === 'EISDIR') return false;
    throw e;
  }
  res.writeHead(200, {
    'content-type': CONTENT_TYPES[extname(name)]!,
    'content-length': body.length,
    // The page changes with the coordinator's version, not while it runs; revalidate on reload.
    'cache-control': 'no-cache',
    'content-security-policy': CONTENT_SECURITY_POLICY,
    'x-content-type-options': 'nosniff',
    'referrer-policy': 'no-referrer',
  });
  res.end(body);
  return true;
}
