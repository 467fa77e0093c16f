/**
 * What a request path asks for (spec §9's layout). Pure: no store access, no I/O.
 * Anything that is not exactly one of these shapes is `undefined` (served as 404).
 *
 * Nix builds URLs by plain concatenation (`<cache>/log/<drv base name>`), and store path names
 * may contain `?` and `=`; curl then sends the `?` and what follows as a query string, so the
 * query is part of the name for `log/`. Percent-escapes are decoded (store names have no `%`).
 */
import { parseStorePathBaseName } from '@farm/nix';

export type CacheRoute =
  | { readonly kind: 'cache-info' }
  | { readonly kind: 'narinfo'; readonly hashPart: string }
  | { readonly kind: 'listing'; readonly hashPart: string }
  | { readonly kind: 'nar'; readonly fileName: string }
  | { readonly kind: 'log'; readonly drvBaseName: string; readonly hashPart: string };

const HASH_PART = '[0-9a-df-np-sv-z]{32}';
const NARINFO = new RegExp(`^/(${HASH_PART})\\.narinfo$`);
const LISTING = new RegExp(`^/(${HASH_PART})\\.ls$`);
const NAR = /^\/nar\/([^/]+)$/;

export function routeOf(rawUrl: string): CacheRoute | undefined {
  let url: string;
  try {
    url = decodeURIComponent(rawUrl);
  } catch {
    return undefined;
  }
  if (url.startsWith('/log/')) return logRoute(url.slice('/log/'.length));
  const path = url.split('?', 1)[0]!;
  if (path === '/nix-cache-info') return { kind: 'cache-info' };
  let m = NARINFO.exec(path);
  if (m !== null) return { kind: 'narinfo', hashPart: m[1]! };
  m = LISTING.exec(path);
  if (m !== null) return { kind: 'listing', hashPart: m[1]! };
  m = NAR.exec(path);
  if (m !== null) return { kind: 'nar', fileName: m[1]! };
  return undefined;
}

function logRoute(name: string): CacheRoute | undefined {
  if (!name.endsWith('.drv')) return undefined;
  try {
    const sp = parseStorePathBaseName(name);
    return { kind: 'log', drvBaseName: sp.baseName, hashPart: sp.hashPart };
  } catch {
    return undefined;
  }
}
