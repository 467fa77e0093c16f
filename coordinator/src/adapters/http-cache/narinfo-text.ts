/**
 * A path's `.narinfo` as this cache serves it: the path info from the farm store, the NAR file's
 * URL/hash/size, and the farm's signatures (path-signatures.ts). The text itself is @farm/nix's
 * formatNarInfo, i.e. exactly Nix's byte format.
 */
import { formatNarInfo, type PathInfo } from '@farm/nix';
import type { CacheKey } from './cache-key.js';
import type { NarFile } from './nar-files.js';
import { farmSignatures } from './path-signatures.js';

export function narInfoText(info: PathInfo, file: NarFile, compression: string, key: CacheKey): string {
  return formatNarInfo({
    ...info,
    url: file.url,
    compression,
    fileHash: file.fileHash,
    fileSize: file.fileSize,
    sigs: farmSignatures(info, key),
  });
}
