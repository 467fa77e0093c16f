/**
 * How the cache compresses NARs. Nix 2.8 decompresses `br` with its own brotli code and every
 * other name through libarchive (which recognises the format by its magic, not by the name), so
 * what matters is that the client can read the bytes; the name only picks the URL's extension
 * (Nix's binary-cache-store.cc) and the narinfo's `Compression:` line.
 *
 * - `br` (default): Node's stable brotli at quality 4, decoded by Nix's own code. Measured on
 *   60 MB of a NAR on this kind of machine: quality 4 ~57 MB/s, ratio 0.390; quality 11 took
 *   135 s for a ratio of 0.380 (100x slower for 1 % less).
 * - `zstd`: Node 22's zstd at level 3 (~210 MB/s, ratio 0.420 on the same NAR), read by Nix 2.8
 *   through libarchive; Node still marks the API experimental, hence not the default.
 * - `none`: the NAR as stored; FileHash/FileSize are NarHash/NarSize and nothing is written.
 */
import type { Transform } from 'node:stream';
import * as zlib from 'node:zlib';
import { FarmError } from '@farm/common';

export const CACHE_COMPRESSIONS = ['br', 'zstd', 'none'] as const;
export type CacheCompression = (typeof CACHE_COMPRESSIONS)[number];
export const DEFAULT_CACHE_COMPRESSION: CacheCompression = 'br';

export interface CompressionMethod {
  readonly name: CacheCompression;
  /** Appended to `nar/<fileHash>.nar` in the URL, as Nix does (`.br`, `.zst`; '' for none). */
  readonly extension: string;
  /** A fresh compressor; undefined for `none`. `sizeHint` is the NAR size (brotli tunes for it). */
  compressor(sizeHint: number): Transform | undefined;
}

const BROTLI_QUALITY = 4;
const ZSTD_LEVEL = 3;

export function compressionMethod(name: string): CompressionMethod {
  switch (name) {
    case 'br':
      return {
        name,
        extension: '.br',
        compressor: (sizeHint) =>
          zlib.createBrotliCompress({
            params: {
              [zlib.constants.BROTLI_PARAM_QUALITY]: BROTLI_QUALITY,
              // Only a hint; larger values than 2^31 are refused by the encoder's API.
              [zlib.constants.BROTLI_PARAM_SIZE_HINT]: Math.min(sizeHint, 0x7fff_ffff),
            },
          }),
      };
    case 'zstd':
      if (typeof zlib.createZstdCompress !== 'function') {
        throw new FarmError('INVALID_CONFIG', `binary cache compression 'zstd' needs a Node with zstd support (${process.version} has none); use 'br'`);
      }
      return {
        name,
        extension: '.zst',
        compressor: () => zlib.createZstdCompress({ params: { [zlib.constants.ZSTD_c_compressionLevel]: ZSTD_LEVEL } }),
      };
    case 'none':
      return { name, extension: '', compressor: () => undefined };
    default:
      throw new FarmError('INVALID_CONFIG', `binary cache compression '${name}' is not one of ${CACHE_COMPRESSIONS.join(', ')}`);
  }
}
