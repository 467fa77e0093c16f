/**
 * Serve BuildSettings, sent after BuildPaths and BuildDerivation (spec §6.3):
 * maxSilentTime, buildTimeout, [≥2.2 maxLogSize], [≥2.3 buildRepeat, enforceDeterminism],
 * [≥2.7 keepFailed]. Fields a version lacks decode as 0/false.
 */
import { type WireReader, type WireWriter, protocolMinor } from '../wire/index.js';

export interface ServeBuildSettings {
  readonly maxSilentTime: number;
  readonly buildTimeout: number;
  readonly maxLogSize: number;
  /** nrRepeats */
  readonly buildRepeat: number;
  readonly enforceDeterminism: boolean;
  readonly keepFailed: boolean;
}

/** What Nix 2.8's build hook sends by default: 0,0,0,0,1,0. */
export const DEFAULT_SERVE_BUILD_SETTINGS: ServeBuildSettings = {
  maxSilentTime: 0,
  buildTimeout: 0,
  maxLogSize: 0,
  buildRepeat: 0,
  enforceDeterminism: true,
  keepFailed: false,
};

export function writeServeBuildSettings(w: WireWriter, s: ServeBuildSettings, version: number): void {
  const minor = protocolMinor(version);
  w.u64(s.maxSilentTime).u64(s.buildTimeout);
  if (minor >= 2) w.u64(s.maxLogSize);
  if (minor >= 3) w.u64(s.buildRepeat).bool(s.enforceDeterminism);
  if (minor >= 7) w.bool(s.keepFailed);
}

export async function readServeBuildSettings(r: WireReader, version: number): Promise<ServeBuildSettings> {
  const minor = protocolMinor(version);
  const maxSilentTime = await r.readNumber('maxSilentTime');
  const buildTimeout = await r.readNumber('buildTimeout');
  const maxLogSize = minor >= 2 ? await r.readNumber('maxLogSize') : 0;
  const buildRepeat = minor >= 3 ? await r.readInt('buildRepeat') : 0;
  const enforceDeterminism = minor >= 3 ? await r.readBool('enforceDeterminism') : false;
  const keepFailed = minor >= 7 ? await r.readBool('keepFailed') : false;
  return { maxSilentTime, buildTimeout, maxLogSize, buildRepeat, enforceDeterminism, keepFailed };
}
