/**
 * Export streams (`nix-store --export`, serve ImportPaths/ExportPaths, spec §6.3): per path
 * `u64 1`, NAR, `u64 EXPORT_MAGIC`, path, references, deriver, `u64 0|1` (+ legacy signature);
 * then `u64 0`. NARs are found by walking them (no length prefix).
 */
import { NixFormatError } from '../errors.js';
import { type NarExtentOptions, type WireReader, type WireWriter, readNarBytes } from '../wire/index.js';
import { EXPORT_MAGIC } from './constants.js';

export interface ExportedPath {
  readonly nar: Uint8Array;
  readonly path: string;
  readonly references: readonly string[];
  readonly deriver: string;
  /** Obsolete per-path signature (Nix writes none). */
  readonly legacySignature?: string | undefined;
}

export function writeExportStream(w: WireWriter, paths: readonly ExportedPath[]): void {
  for (const p of paths) {
    w.u64(1).raw(p.nar).u64(EXPORT_MAGIC).string(p.path).stringSet(p.references).string(p.deriver);
    if (p.legacySignature === undefined) w.u64(0);
    else w.u64(1).string(p.legacySignature);
  }
  w.u64(0);
}

export async function readExportStream(r: WireReader, nar: NarExtentOptions = {}): Promise<ExportedPath[]> {
  const out: ExportedPath[] = [];
  for (;;) {
    const at = r.offset;
    const more = await r.readU64('export stream marker');
    if (more === 0n) return out;
    if (more !== 1n) throw new NixFormatError('BAD_WIRE', `export stream: expected 0 or 1 before a path, got ${more}`, { offset: at });
    const bytes = await readNarBytes(r, nar);
    const magicAt = r.offset;
    const magic = await r.readU64('export magic');
    if (magic !== BigInt(EXPORT_MAGIC)) throw new NixFormatError('BAD_WIRE', `export stream: bad magic 0x${magic.toString(16)} after NAR`, { offset: magicAt });
    const path = await r.readString('exported path');
    const references = await r.readStrings('exported references');
    const deriver = await r.readString('exported deriver');
    const sigAt = r.offset;
    const hasSig = await r.readU64('legacy signature flag');
    if (hasSig > 1n) throw new NixFormatError('BAD_WIRE', `export stream: signature flag ${hasSig}`, { offset: sigAt });
    const legacySignature = hasSig === 1n ? await r.readString('legacy signature') : undefined;
    out.push(legacySignature === undefined ? { nar: bytes, path, references, deriver } : { nar: bytes, path, references, deriver, legacySignature });
  }
}
