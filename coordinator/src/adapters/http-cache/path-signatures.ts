/**
 * The signatures the farm shows for a path, wherever it serves path infos (the binary cache's
 * narinfos, the Nix door's QueryPathInfo(s)): the farm key's over Nix's fingerprint of the path,
 * then whatever signatures the path arrived with (a client that trusts their keys instead may use
 * them). The farm store does not check uploaded signatures, so one that is not even well-formed
 * is left out rather than breaking a narinfo (or, with a line break, injecting lines).
 */
import { parseSignature, pathInfoFingerprint, type PathInfo } from '@farm/nix';
import type { CacheKey } from './cache-key.js';

export function farmSignatures(info: PathInfo, key: CacheKey): string[] {
  return [key.sign(pathInfoFingerprint(info)), ...info.sigs.filter(wellFormed)];
}

function wellFormed(sig: string): boolean {
  try {
    parseSignature(sig);
    return true;
  } catch {
    return false;
  }
}
