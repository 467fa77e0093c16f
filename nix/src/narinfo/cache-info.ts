/**
 * `nix-cache-info`, the file at the root of a binary cache (spec §9): `Key: value` lines.
 * Parsing mirrors Nix 2.8's BinaryCacheStore::init: lines without ':' and unknown keys are
 * ignored, values are trimmed, WantMassQuery is true only for "1". Nix's std::stoi would throw
 * on a non-numeric Priority; we report that as a typed BAD_NARINFO error instead.
 */
import { NixFormatError } from '../errors.js';

export interface NixCacheInfo {
  /** Absent only if the file has no StoreDir line (Nix then does not check the store dir). */
  readonly storeDir?: string;
  readonly wantMassQuery?: boolean;
  readonly priority?: number;
}

export function parseNixCacheInfo(text: string): NixCacheInfo {
  let storeDir: string | undefined;
  let wantMassQuery: boolean | undefined;
  let priority: number | undefined;
  text.split('\n').forEach((line, i) => {
    const colon = line.indexOf(':');
    if (colon < 0) return;
    const key = line.slice(0, colon);
    const value = line.slice(colon + 1).trim();
    if (key === 'StoreDir') storeDir = value;
    else if (key === 'WantMassQuery') wantMassQuery = value === '1';
    else if (key === 'Priority') {
      if (!/^[+-]?[0-9]{1,9}$/.test(value)) {
        throw new NixFormatError('BAD_NARINFO', `nix-cache-info line ${i + 1}: Priority must be an integer, got '${value}'`, { field: 'Priority' });
      }
      priority = Number(value);
    }
  });
  return {
    ...(storeDir !== undefined ? { storeDir } : {}),
    ...(wantMassQuery !== undefined ? { wantMassQuery } : {}),
    ...(priority !== undefined ? { priority } : {}),
  };
}

/** Renders the file as a binary cache serves it: StoreDir first, then the optional keys. */
export function formatNixCacheInfo(info: NixCacheInfo): string {
  let out = info.storeDir !== undefined ? `StoreDir: ${info.storeDir}\n` : '';
  if (info.wantMassQuery !== undefined) out += `WantMassQuery: ${info.wantMassQuery ? 1 : 0}\n`;
  if (info.priority !== undefined) out += `Priority: ${info.priority}\n`;
  return out;
}
