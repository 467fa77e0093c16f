/**
 * An export stream (the format of `nix-store --export`, spec §6.3) written path by path, so a
 * NAR can be streamed from a file instead of held in memory: per path `head`, the NAR bytes,
 * then `trailer`; after the last path `EXPORT_END`. Together these are byte-for-byte what
 * `writeExportStream` from @farm/nix writes for the same paths (a test checks it).
 */
import { EXPORT_MAGIC, WireWriter } from '@farm/nix';

/** `u64 1`: another path follows. */
export function exportHead(): Uint8Array {
  return new WireWriter().u64(1).toBytes();
}

/** After the NAR: magic, path, references (as a sorted set), deriver, no legacy signature. */
export function exportTrailer(path: string, references: Iterable<string>, deriver: string): Uint8Array {
  return new WireWriter().u64(EXPORT_MAGIC).string(path).stringSet(references).string(deriver).u64(0).toBytes();
}

/** `u64 0`: no more paths. */
export const EXPORT_END: Uint8Array = new WireWriter().u64(0).toBytes();
