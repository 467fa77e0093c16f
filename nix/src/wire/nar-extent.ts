/**
 * NARs embedded in protocol streams (DumpStorePath, NarFromPath, export streams,
 * AddMultipleToStore) carry no length prefix: the only way to find their end is to parse them
 * (spec §3). This adapts the one NAR reader (nix/src/nar) to a WireReader: it consumes exactly
 * one NAR, hands every byte to the caller and to the reader's taps, and re-locates the NAR
 * reader's errors (whose offsets count from the NAR's start) to offsets in the whole stream; a NAR
 * cut short by the end of the stream is WIRE_TRUNCATED, like every other short read.
 */
import { NixFormatError, isNixFormatError } from '../errors.js';
import { copyNar, type NarLimits, type NarReadResult } from '../nar/index.js';
import type { WireReader } from './reader.js';
import { concatBytes } from './writer.js';

export type NarExtentOptions = Partial<NarLimits>;
export type NarExtent = NarReadResult;

/** Consumes one NAR from `reader`, passing its bytes to `onChunk`; returns its size and sha256. */
export async function copyNarExtent(reader: WireReader, onChunk: (chunk: Uint8Array) => void, options: NarExtentOptions = {}): Promise<NarExtent> {
  const start = reader.offset;
  try {
    return await copyNar(
      reader.source,
      (bytes) => {
        reader.emit(bytes);
        onChunk(bytes);
      },
      { limits: options },
    );
  } catch (e) {
    if (!isNixFormatError(e)) throw e;
    const offset = typeof e.offset === 'number' ? start + e.offset : reader.offset;
    const code = e.code === 'NAR_TRUNCATED' ? 'WIRE_TRUNCATED' : e.code;
    throw new NixFormatError(code, `in the NAR starting at byte ${start}: ${e.reason}`, { offset, cause: e });
  }
}

/** Consumes one NAR and returns its bytes (for messages small enough to hold in memory). */
export async function readNarBytes(reader: WireReader, options: NarExtentOptions = {}): Promise<Uint8Array> {
  const parts: Uint8Array[] = [];
  const { narSize } = await copyNarExtent(reader, (c) => parts.push(c.slice()), options);
  return concatBytes(parts, narSize);
}
