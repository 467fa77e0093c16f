/**
 * Visitor-style entry points over `narEvents` for code that reads NARs out of streams:
 *
 * - `readNar(source, visitor?, options?)` parses one NAR, calling the visitor (which may be
 *   async) for each event, and returns {narHash, narSize}.
 * - `skipNar(source)` consumes and validates one NAR without looking at it.
 * - `copyNar(source, onChunk)` consumes one NAR and hands every raw byte to `onChunk` (the tee
 *   Nix's copyNAR does: forward a NAR while learning where it ends and what its hash is).
 * - `parseNarBytes(bytes)` parses a complete in-memory NAR and rejects trailing bytes.
 *
 * All of them consume exactly the NAR's bytes from the ByteSource (a NAR inside a protocol
 * stream is left positioned right after it) unless `requireEnd` is set, in which case the source
 * must end there. Errors are NixFormatError: BAD_NAR, NAR_TRUNCATED, NAR_TOO_LARGE,
 * NAR_UNSAFE_PATH, each with the byte offset inside the NAR.
 */
import type { ByteSource } from '../io/byte-source.js';
import { StreamSource } from '../io/byte-source.js';
import { narEvents, type NarEvent, type NarReadOptions, type NarReadResult } from './events.js';

type MaybePromise = void | Promise<void>;

export interface NarVisitor {
  directory?(depth: number, name: Uint8Array | null): MaybePromise;
  directoryEnd?(depth: number): MaybePromise;
  file?(depth: number, name: Uint8Array | null, executable: boolean, size: number): MaybePromise;
  contents?(chunk: Uint8Array): MaybePromise;
  fileEnd?(depth: number): MaybePromise;
  symlink?(depth: number, name: Uint8Array | null, target: Uint8Array): MaybePromise;
}

export async function readNar(source: ByteSource, visitor: NarVisitor = {}, options: NarReadOptions = {}): Promise<NarReadResult> {
  const events = narEvents(source, options);
  for (;;) {
    const r = await events.next();
    if (r.done === true) return r.value;
    await dispatch(visitor, r.value);
  }
}

function dispatch(v: NarVisitor, e: NarEvent): MaybePromise {
  switch (e.type) {
    case 'directory':
      return v.directory?.(e.depth, e.name);
    case 'directoryEnd':
      return v.directoryEnd?.(e.depth);
    case 'file':
      return v.file?.(e.depth, e.name, e.executable, e.size);
    case 'contents':
      return v.contents?.(e.chunk);
    case 'fileEnd':
      return v.fileEnd?.(e.depth);
    case 'symlink':
      return v.symlink?.(e.depth, e.name, e.target);
  }
}

export function skipNar(source: ByteSource, options: NarReadOptions = {}): Promise<NarReadResult> {
  return readNar(source, {}, options);
}

export function copyNar(source: ByteSource, onChunk: (bytes: Uint8Array) => void, options: Omit<NarReadOptions, 'onRaw'> = {}): Promise<NarReadResult> {
  return readNar(source, {}, { ...options, onRaw: onChunk });
}

/** Parses a complete NAR held in memory (trailing bytes are an error). */
export function parseNarBytes(bytes: Uint8Array, visitor: NarVisitor = {}, options: Omit<NarReadOptions, 'requireEnd'> = {}): Promise<NarReadResult> {
  return readNar(new StreamSource(bytes, 'NAR_TRUNCATED'), visitor, { ...options, requireEnd: true });
}
