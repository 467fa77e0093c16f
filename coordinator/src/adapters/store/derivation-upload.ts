/**
 * The checks and the NAR for one uploaded `.drv`, independent of storage:
 * - size limit, drv path is a `.drv` store path, ATerm parses strictly (nix lib);
 * - drv path and every statically known output path recomputed (verifyDerivation, with input
 *   derivations resolved from the store) — all mismatches are reported, not just the first;
 * - the PathInfo Nix would register: text content address, references = inputSrcs ∪ inputDrvs,
 *   NAR = the single-file NAR of the ATerm, built in memory by the nix lib (regularFileNar, the
 *   same bytes `nix-store --dump` gives for the .drv file; no scratch file).
 */
import { FarmError } from '@farm/common';
import {
  derivationReferences,
  NixFormatError,
  parseDerivation,
  parseStorePath,
  regularFileNar,
  sha256,
  sortedBytewise,
  verifyDerivation,
  type Derivation,
  type DrvHashMemo,
  type InputDerivationResolver,
  type PathInfo,
} from '@farm/nix';
import type { FarmStoreLimits } from '../../ports/farm-store.js';

export interface ParsedDerivationUpload {
  readonly bytes: Uint8Array;
  readonly drv: Derivation;
  /** inputSrcs ∪ inputDrvs, sorted bytewise. */
  readonly references: string[];
}

export function parseDerivationUpload(drvPath: string, aterm: Uint8Array | string, limits: FarmStoreLimits): ParsedDerivationUpload {
  const bytes = typeof aterm === 'string' ? new TextEncoder().encode(aterm) : aterm;
  if (bytes.length > limits.maxAtermSize) {
    throw new FarmError('INVALID_ARGUMENT', `${drvPath}: derivation of ${bytes.length} bytes exceeds the limit of ${limits.maxAtermSize} bytes`);
  }
  const sp = parseStorePath(drvPath);
  if (!sp.name.endsWith('.drv')) throw new NixFormatError('BAD_STORE_PATH', `'${drvPath}' is not a .drv store path`);
  const drv = parseDerivation(bytes);
  const references = sortedBytewise(derivationReferences(drv));
  if (references.length > limits.maxReferences) {
    throw new FarmError('INVALID_ARGUMENT', `${drvPath}: ${references.length} references exceed the limit of ${limits.maxReferences}`);
  }
  return { bytes, drv, references };
}

/** Throws DERIVATION_MISMATCH listing every field whose recomputed value differs. */
export async function verifyDerivationUpload(drvPath: string, upload: ParsedDerivationUpload, resolve: InputDerivationResolver, memo?: DrvHashMemo): Promise<void> {
  const mismatches = await verifyDerivation(drvPath, upload.drv, resolve, memo === undefined ? {} : { memo });
  if (mismatches.length === 0) return;
  const list = mismatches.map((m) => `${m.field} is '${m.actual}' but should be '${m.expected}'`).join('; ');
  throw new NixFormatError('DERIVATION_MISMATCH', `${drvPath}: derivation does not match its paths: ${list}`, { field: mismatches[0]!.field });
}

/** The `.drv`'s NAR (a single non-executable file holding the ATerm) and its PathInfo. */
export function derivationNar(drvPath: string, upload: ParsedDerivationUpload): { nar: Buffer; info: PathInfo } {
  const nar = regularFileNar(upload.bytes);
  const info: PathInfo = {
    path: drvPath,
    narHash: sha256(nar),
    narSize: BigInt(nar.length),
    references: upload.references,
    registrationTime: 0n,
    ultimate: false,
    sigs: [],
    ca: `text:${sha256(upload.bytes).toPrefixed('nix32')}`,
  };
  return { nar, info };
}
