/**
 * ValidPathInfo on the wire (spec §7.4, §6.3): a wire-level record that keeps every field exactly
 * as sent (narHash as the string on the wire: base16 without prefix in the worker protocol,
 * `sha256:<nix32>` in serve QueryPathInfos), so decoding then encoding is byte-identical.
 * Interpreting the fields (parsing the hash, the content address) is the caller's job.
 * `pathInfoFromWire` / `pathInfoToWire` convert to and from the parsed PathInfo at the edges.
 */
import { NixFormatError } from '../errors.js';
import { Hash } from '../hash/hash.js';
import type { PathInfo } from '../path-info.js';
import { sortedBytewise } from '../store-path/store-path.js';
import type { WireReader } from './reader.js';
import { protocolMinor } from './version.js';
import type { WireWriter } from './writer.js';

/** Everything but the path ("unkeyed" in Nix). Empty strings mean "absent" (deriver, ca). */
export interface WirePathInfoFields {
  readonly deriver: string;
  readonly narHash: string;
  readonly references: readonly string[];
  readonly registrationTime: number;
  readonly narSize: number;
  readonly ultimate: boolean;
  readonly sigs: readonly string[];
  readonly ca: string;
}

export interface WirePathInfo extends WirePathInfoFields {
  readonly path: string;
}

/** Worker ValidPathInfo without the path; `version` is the negotiated worker version. */
export function writePathInfoFields(w: WireWriter, info: WirePathInfoFields, version: number): void {
  w.string(info.deriver).string(info.narHash).stringSet(info.references).u64(info.registrationTime).u64(info.narSize);
  if (protocolMinor(version) >= 16) w.bool(info.ultimate).stringSet(info.sigs).string(info.ca);
}

export async function readPathInfoFields(r: WireReader, version: number): Promise<WirePathInfoFields> {
  const deriver = await r.readString('deriver');
  const narHash = await r.readString('narHash');
  const references = await r.readStrings('references');
  const registrationTime = await r.readNumber('registrationTime');
  const narSize = await r.readNumber('narSize');
  if (protocolMinor(version) < 16) return { deriver, narHash, references, registrationTime, narSize, ultimate: false, sigs: [], ca: '' };
  const ultimate = await r.readBool('ultimate');
  const sigs = await r.readStrings('sigs');
  const ca = await r.readString('ca');
  return { deriver, narHash, references, registrationTime, narSize, ultimate, sigs, ca };
}

export function writePathInfo(w: WireWriter, info: WirePathInfo, version: number): void {
  w.string(info.path);
  writePathInfoFields(w, info, version);
}

export async function readPathInfo(r: WireReader, version: number): Promise<WirePathInfo> {
  const path = await r.readString('path');
  return { path, ...(await readPathInfoFields(r, version)) };
}

/** Interprets a wire path info (narHash in any form Nix accepts) as a PathInfo. */
export function pathInfoFromWire(info: WirePathInfo): PathInfo {
  return {
    path: info.path,
    ...(info.deriver !== '' ? { deriver: info.deriver } : {}),
    narHash: Hash.parse(info.narHash, 'sha256'),
    narSize: BigInt(info.narSize),
    references: sortedBytewise(new Set(info.references)),
    registrationTime: BigInt(info.registrationTime),
    ultimate: info.ultimate,
    sigs: [...info.sigs],
    ...(info.ca !== undefined && info.ca !== '' ? { ca: info.ca } : {}),
  };
}

/**
 * Renders a PathInfo the way each protocol writes it: the worker protocol sends narHash as
 * unprefixed base16, the serve protocol's QueryPathInfos reply as `sha256:<nix32>` (spec §11.7).
 */
export function pathInfoToWire(info: PathInfo, protocol: 'worker' | 'serve'): WirePathInfo {
  return {
    path: info.path,
    deriver: info.deriver ?? '',
    narHash: protocol === 'worker' ? info.narHash.base16 : info.narHash.toPrefixed('nix32'),
    references: sortedBytewise(info.references),
    registrationTime: safeNumber(info.registrationTime, 'registrationTime'),
    narSize: safeNumber(info.narSize, 'narSize'),
    ultimate: info.ultimate,
    sigs: [...info.sigs],
    ca: info.ca ?? '',
  };
}

function safeNumber(n: bigint, field: string): number {
  if (n < 0n || n > BigInt(Number.MAX_SAFE_INTEGER)) throw new NixFormatError('UNSUPPORTED', `${field} ${n} is beyond 2^53`, { field });
  return Number(n);
}
