/**
 * DerivedPath strings (spec §6.3, §7.4). Two syntaxes exist and they disagree about a bare
 * `.drv` path: the old StorePathWithOutputs syntax (serve BuildPaths, worker < 1.30) means
 * "build all outputs", the new one (worker ≥ 1.30) means "the .drv file itself" (`!*` = all).
 * Messages keep the strings as sent; these helpers interpret them.
 */
import { NixFormatError } from '../errors.js';
import { protocolMinor } from './version.js';

export type DerivedPathSyntax = 'old' | 'new';

export type DerivedPath =
  | { readonly type: 'opaque'; readonly path: string }
  | { readonly type: 'built'; readonly drvPath: string; readonly outputs: 'all' | readonly string[] };

export function workerDerivedPathSyntax(version: number): DerivedPathSyntax {
  return protocolMinor(version) >= 30 ? 'new' : 'old';
}

export function parseDerivedPath(s: string, syntax: DerivedPathSyntax): DerivedPath {
  const bang = s.indexOf('!');
  if (bang < 0) {
    if (syntax === 'old' && s.endsWith('.drv')) return { type: 'built', drvPath: s, outputs: 'all' };
    return { type: 'opaque', path: s };
  }
  const drvPath = s.slice(0, bang);
  const spec = s.slice(bang + 1);
  if (spec === '*' && syntax === 'new') return { type: 'built', drvPath, outputs: 'all' };
  const outputs = spec.split(',');
  if (outputs.some((o) => o === '')) throw new NixFormatError('BAD_WIRE', `derived path ${JSON.stringify(s)} has an empty output name`, { field: 'derivedPath' });
  return { type: 'built', drvPath, outputs };
}

export function formatDerivedPath(p: DerivedPath, syntax: DerivedPathSyntax): string {
  if (p.type === 'opaque') return p.path;
  if (p.outputs === 'all') return syntax === 'new' ? `${p.drvPath}!*` : p.drvPath;
  return `${p.drvPath}!${p.outputs.join(',')}`;
}
