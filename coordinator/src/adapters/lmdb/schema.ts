/**
 * LMDB layout of the farm store (one environment file, `<stateDir>/store.mdb`):
 *
 * | database      | key (string)                  | value                                     |
 * |---------------|-------------------------------|-------------------------------------------|
 * | `pathInfos`   | full store path               | PathInfoRecord (msgpack)                  |
 * | `hashParts`   | 32-char nix32 hash part       | full store path (msgpack string)          |
 * | `derivations` | full `.drv` store path        | the ATerm bytes (binary)                  |
 * | `inlineNars`  | narHash, nix32 (52 chars)     | the whole NAR (binary), for small NARs    |
 *
 * PathInfoRecord holds the PathInfo fields with the NAR hash as `sha256:<nix32>` text and the
 * u64 fields (narSize, registrationTime) as msgpack integers decoded to bigint (lmdb's msgpackr
 * writes a bigint as uint64 and we always convert back with BigInt(), so neither precision nor
 * type is lost whatever width it chose). A record exists only for a path whose NAR is either
 * inline (`inlineNars[narHash]`, written in the same transaction as the record, or already there)
 * or a file `nar/<narHash nix32>.nar` durably in place before the commit. Records are written in
 * the same transaction as their `hashParts` entry (and `derivations` entry for a `.drv`).
 * `inlineNars` entries are shared by every path with that NAR (dedup by NAR hash, like the files)
 * and, like the files, never rewritten.
 *
 * `v` is the record version, so a later layout change can migrate old records explicitly.
 */
import { Hash, type PathInfo } from '@farm/nix';

export const STORE_DATABASES = {
  pathInfos: 'msgpack',
  hashParts: 'msgpack',
  derivations: 'binary',
  inlineNars: 'binary',
} as const;

export type StoreDatabaseName = keyof typeof STORE_DATABASES;

export const PATH_INFO_RECORD_VERSION = 1;

export interface PathInfoRecord {
  readonly v: number;
  readonly narHash: string;
  readonly narSize: bigint | number;
  readonly references: readonly string[];
  readonly registrationTime: bigint | number;
  readonly ultimate: boolean;
  readonly sigs: readonly string[];
  readonly deriver?: string;
  readonly ca?: string;
}

export function pathInfoToRecord(info: PathInfo): PathInfoRecord {
  return {
    v: PATH_INFO_RECORD_VERSION,
    narHash: info.narHash.toPrefixed('nix32'),
    narSize: info.narSize,
    references: [...info.references],
    registrationTime: info.registrationTime,
    ultimate: info.ultimate,
    sigs: [...info.sigs],
    ...(info.deriver !== undefined ? { deriver: info.deriver } : {}),
    ...(info.ca !== undefined ? { ca: info.ca } : {}),
  };
}

export function recordToPathInfo(path: string, r: PathInfoRecord): PathInfo {
  if (r.v !== PATH_INFO_RECORD_VERSION) throw new Error(`path info record of ${path} has unknown version ${String(r.v)}`);
  return {
    path,
    narHash: Hash.parse(r.narHash),
    narSize: BigInt(r.narSize),
    references: [...r.references],
    registrationTime: BigInt(r.registrationTime),
    ultimate: r.ultimate,
    sigs: [...r.sigs],
    ...(r.deriver !== undefined ? { deriver: r.deriver } : {}),
    ...(r.ca !== undefined ? { ca: r.ca } : {}),
  };
}
