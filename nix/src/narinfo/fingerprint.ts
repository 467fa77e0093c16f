/**
 * The string Nix signs for a store path (ValidPathInfo::fingerprint, spec §9):
 *   1;<full store path>;<narHash as algo:nix32>;<narSize decimal>;<full reference paths, sorted, comma-separated>
 * References are sorted bytewise and deduplicated because Nix keeps them in a std::set; a
 * different order would produce a different (and unverifiable) signature.
 */
import { NixFormatError } from '../errors.js';
import type { PathInfo } from '../path-info.js';
import { sortedBytewise } from '../store-path/store-path.js';

export type FingerprintInput = Pick<PathInfo, 'path' | 'narHash' | 'narSize' | 'references'>;

export function pathInfoFingerprint(info: FingerprintInput): string {
  // Nix refuses too: a fingerprint over an unknown size would sign a meaningless statement.
  if (info.narSize <= 0n) {
    throw new NixFormatError('BAD_NARINFO', `cannot compute the fingerprint of '${info.path}': its NAR size is not known`, {
      field: 'narSize',
    });
  }
  const refs = sortedBytewise(new Set(info.references));
  return `1;${info.path};${info.narHash.toPrefixed('nix32')};${info.narSize.toString()};${refs.join(',')}`;
}
