/**
 * What the user typed, as one of the three forms `farm submit` accepts:
 *   - a flake reference with an optional attribute path: `.#all`, `path:dir#all`, `dir#all`;
 *   - a Nix file with an attribute path (`-f file.nix -A attr`; attr '' means the whole file);
 *   - a `.drv` store path that is already instantiated.
 *
 * Flake references that name a local directory are rewritten to `path:<absolute dir>`. Nix would
 * otherwise turn a directory inside a git checkout into `git+file:`, which sees only committed
 * files; the farm evaluates what is on disk, as `nix-build` does. References with a scheme
 * (`path:`, `git+file:`, `github:` …) are passed on as written, with a relative `path:` made
 * absolute; other words (`nixpkgs#hello`) are registry references and also passed on.
 * A flake reference without `#` means its default package (`#default`, which Nix looks up as
 * `packages.<system>.default`).
 */
import { existsSync, statSync } from 'node:fs';
import { isAbsolute, resolve } from 'node:path';
import { FarmError } from '@farm/common';
import { DEFAULT_STORE_DIR, isStorePath } from '@farm/nix';

export type Installable =
  | { readonly kind: 'flake'; readonly flakeRef: string; readonly attrPath: string; readonly text: string }
  | { readonly kind: 'file'; readonly file: string; readonly attrPath: string; readonly text: string }
  | { readonly kind: 'drv'; readonly drvPath: string; readonly text: string };

export interface ParseInstallableOptions {
  /** `-f FILE`: the positional argument is then an attribute path (`-A`). */
  readonly file?: string;
  /** Directory that relative paths are relative to; default process.cwd(). */
  readonly cwd?: string;
  readonly storeDir?: string;
}

const SCHEME = /^[a-z][a-z0-9+.-]*:/;

export function parseInstallable(text: string, options: ParseInstallableOptions = {}): Installable {
  const cwd = options.cwd ?? process.cwd();
  if (options.file !== undefined) {
    // `<nixpkgs>` is a search-path lookup for Nix, not a file name relative to cwd.
    const file = options.file.startsWith('<') ? options.file : resolve(cwd, options.file);
    return { kind: 'file', file, attrPath: text, text: describeFile(options.file, text) };
  }
  if (text.endsWith('.drv') && !text.includes('#')) {
    const drvPath = isAbsolute(text) ? text : resolve(cwd, text);
    if (!isStorePath(drvPath, options.storeDir ?? DEFAULT_STORE_DIR)) {
      throw new FarmError('INVALID_ARGUMENT', `'${text}' ends in .drv but is not a store path under ${options.storeDir ?? DEFAULT_STORE_DIR}`, { installable: text });
    }
    return { kind: 'drv', drvPath, text };
  }
  const hash = text.indexOf('#');
  const ref = hash >= 0 ? text.slice(0, hash) : text;
  const attrPath = hash >= 0 ? text.slice(hash + 1) : 'default';
  if (ref === '') throw new FarmError('INVALID_ARGUMENT', `'${text}' has no flake reference before '#' (use '.#${attrPath}')`, { installable: text });
  if (hash < 0 && !looksLikeFlakeRef(ref, cwd)) {
    throw new FarmError(
      'INVALID_ARGUMENT',
      `'${text}' is not a flake reference (no '#', no flake.nix there), a .drv path, or an attribute of -f FILE`,
      { installable: text },
    );
  }
  return { kind: 'flake', flakeRef: normaliseFlakeRef(ref, cwd), attrPath, text };
}

/** `path:` for local directories, absolute; everything else unchanged. */
export function normaliseFlakeRef(ref: string, cwd: string): string {
  if (ref.startsWith('path:')) {
    const rest = ref.slice('path:'.length);
    return rest.startsWith('/') ? ref : `path:${resolve(cwd, rest)}`;
  }
  if (SCHEME.test(ref)) return ref;
  const query = ref.indexOf('?');
  const dir = resolve(cwd, query >= 0 ? ref.slice(0, query) : ref);
  const isLocal = ref.startsWith('.') || ref.startsWith('/') || isDirectory(dir);
  return isLocal ? `path:${dir}${query >= 0 ? ref.slice(query) : ''}` : ref;
}

function looksLikeFlakeRef(ref: string, cwd: string): boolean {
  if (SCHEME.test(ref)) return true;
  return existsSync(resolve(cwd, ref, 'flake.nix'));
}

function isDirectory(p: string): boolean {
  try {
    return statSync(p).isDirectory();
  } catch {
    return false;
  }
}

function describeFile(file: string, attrPath: string): string {
  return attrPath === '' ? `-f ${file}` : `-f ${file} -A ${attrPath}`;
}
