/**
 * Derivation attributes a builder or farm must honour (spec §5.5), read the way Nix 2.8's
 * ParsedDerivation does: from plain env vars, or from the `__json` env entry when the
 * derivation uses `__structuredAttrs`.
 */
import { NixFormatError } from '../errors.js';
import { DEFAULT_STORE_DIR, parseStorePath } from '../store-path/store-path.js';
import { derivationType, hasKnownOutputPaths } from './output-kind.js';
import type { Derivation } from './types.js';

/** The parsed `__json` object, or undefined when structured attrs are not used. */
export function structuredAttrs(drv: Derivation): Record<string, unknown> | undefined {
  const json = drv.env.get('__json');
  if (json === undefined) return undefined;
  let parsed: unknown;
  try {
    parsed = JSON.parse(json);
  } catch (e) {
    throw new NixFormatError('BAD_DERIVATION', `__json is not valid JSON: ${(e as Error).message}`, { field: 'env.__json', cause: e });
  }
  if (typeof parsed !== 'object' || parsed === null || Array.isArray(parsed)) {
    throw new NixFormatError('BAD_DERIVATION', '__json must be a JSON object', { field: 'env.__json' });
  }
  return parsed as Record<string, unknown>;
}

/** Nix's getStringsAttr: a whitespace-separated env var, or a JSON list of strings. */
export function stringsAttribute(drv: Derivation, name: string): string[] | undefined {
  const attrs = structuredAttrs(drv);
  if (attrs !== undefined) {
    if (!Object.hasOwn(attrs, name)) return undefined;
    const v = attrs[name];
    if (!Array.isArray(v) || !v.every((x): x is string => typeof x === 'string')) {
      throw new NixFormatError('BAD_DERIVATION', `attribute '${name}' must be a list of strings`, { field: `__json.${name}` });
    }
    return v;
  }
  const v = drv.env.get(name);
  if (v === undefined) return undefined;
  return v.split(/[ \t\n\r]+/).filter((s) => s !== '');
}

/** Nix's getBoolAttr: env value `"1"` is true, anything else false; JSON must be a boolean. */
export function boolAttribute(drv: Derivation, name: string, defaultValue: boolean): boolean {
  const attrs = structuredAttrs(drv);
  if (attrs !== undefined) {
    if (!Object.hasOwn(attrs, name)) return defaultValue;
    const v = attrs[name];
    if (typeof v !== 'boolean') throw new NixFormatError('BAD_DERIVATION', `attribute '${name}' must be a Boolean`, { field: `__json.${name}` });
    return v;
  }
  const v = drv.env.get(name);
  return v === undefined ? defaultValue : v === '1';
}

/**
 * The system features a machine must offer, in the order the derivation lists them (duplicates
 * dropped); derivations without statically known output paths also need `ca-derivations`.
 */
export function requiredSystemFeatures(drv: Derivation, storeDir = DEFAULT_STORE_DIR): string[] {
  const features = new Set(stringsAttribute(drv, 'requiredSystemFeatures') ?? []);
  if (!hasKnownOutputPaths(derivationType(drv, storeDir))) features.add('ca-derivations');
  return [...features];
}

export function preferLocalBuild(drv: Derivation): boolean {
  return boolAttribute(drv, 'preferLocalBuild', false);
}

export function allowSubstitutes(drv: Derivation): boolean {
  return boolAttribute(drv, 'allowSubstitutes', true);
}

/** `BasicDerivation::nameFromPath`: the store path name without `.drv`. */
export function derivationNameFromPath(drvPath: string, storeDir = DEFAULT_STORE_DIR): string {
  const { name } = parseStorePath(drvPath, storeDir);
  if (!name.endsWith('.drv') || name.length === 4) {
    throw new NixFormatError('BAD_STORE_PATH', `'${drvPath}' is not a derivation path (name must end in .drv)`, { field: 'drvPath' });
  }
  return name.slice(0, -4);
}
