/**
 * A `.drv` arriving over AddPath (no lease): the NAR must be a single regular file whose
 * contents are the ATerm, and must match the header's narSize and narHash; the ATerm then goes
 * through FarmStore.addDerivation, which recomputes the drv and output paths. The NAR is read
 * into memory, bounded by the declared size and `maxBytes` (derivations are small).
 */
import { FarmError } from '@farm/common';
import { parseNarBytes, sha256, type PathInfo } from '@farm/nix';
import type { AddResult, FarmStore } from '../ports/farm-store.js';

export async function addDerivationFromNar(store: FarmStore, info: PathInfo, nar: AsyncIterable<Uint8Array>, maxBytes: number): Promise<AddResult> {
  const declared = Number(info.narSize);
  if (declared > maxBytes) {
    throw new FarmError('INVALID_ARGUMENT', `${info.path}: a derivation NAR of ${declared} bytes exceeds the limit of ${maxBytes} bytes`);
  }
  const parts: Buffer[] = [];
  let size = 0;
  for await (const chunk of nar) {
    size += chunk.length;
    if (size > declared) throw new FarmError('INVALID_ARGUMENT', `${info.path}: NAR size mismatch: expected ${declared} bytes, the NAR is longer`);
    parts.push(Buffer.from(chunk));
  }
  if (size !== declared) throw new FarmError('INVALID_ARGUMENT', `${info.path}: NAR size mismatch: expected ${declared} bytes, got ${size}`);
  const bytes = Buffer.concat(parts);
  if (info.narHash.algo !== 'sha256') throw new FarmError('INVALID_ARGUMENT', `${info.path}: narHash must be sha256, got ${info.narHash.algo}`);
  const actual = sha256(bytes);
  if (!actual.equals(info.narHash)) {
    throw new FarmError('INVALID_ARGUMENT', `${info.path}: NAR hash mismatch: expected ${info.narHash.toPrefixed('nix32')}, got ${actual.toPrefixed('nix32')}`);
  }
  const contents: Buffer[] = [];
  let shape: string | undefined;
  await parseNarBytes(bytes, {
    file: (depth, _name, executable) => {
      if (depth === 0 && executable) shape = 'an executable file';
    },
    directory: (depth) => {
      if (depth === 0) shape = 'a directory';
    },
    symlink: (depth) => {
      if (depth === 0) shape = 'a symlink';
    },
    contents: (c) => void contents.push(Buffer.from(c)),
  });
  if (shape !== undefined) throw new FarmError('INVALID_ARGUMENT', `${info.path}: a .drv must be a single regular file, the NAR holds ${shape}`);
  return store.addDerivation(info.path, Buffer.concat(contents));
}
