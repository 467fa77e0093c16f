/**
 * A path's `.narinfo` as this cache serves it: the path info from the farm store, the NAR file's
 * URL/hash/size, and the signatures — the farm key's over Nix's fingerprint of the path, plus
 * whatever signatures the path arrived with (a client that trusts their keys instead may use
 * them). The text itself is @farm/nix's formatNarInfo, i.e. exactly Nix's byte format.
 *
 * The farm store does not check uploaded signatures, so one that is not even well-formed is
 * left out here rather than letting it break the narinfo (or, with a line break, inject lines).
 */
import { formatNarInfo, parseSignature, pathInfoFingerprint, type PathInfo } from '@farm/nix';
import type { CacheKey } from './cache-key.js';
import type { NarFile } from './nar-files.js';

export function narInfoText(info: PathInfo, file: NarFile, compression: string, key: CacheKey): string {
  return formatNarInfo({
    ...info,
    url: file.url,
    compression,
    fileHash: file.fileHash,
    fileSize: file.fileSize,
    sigs: [key.sign(pathInfoFingerprint(info)), ...info.sigs.filter(wellFormed)],
  });
}

function wellFormed(sig: string): boolean {
  try {
    parseSignature(sig);
    return true;
  } catch {
    return false;
  }
}
