/**
 * Shared helpers for the derivation tests: the derivations.json vectors, a resolver over them,
 * and a Nix-store reader for files produced by the real nix-instantiate.
 */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { parseDerivation, type Derivation, type InputDerivationResolver } from '../src/index.js';
import { readVectorJson } from './vectors.js';

export interface DerivationVector {
  attr: string;
  drvPath: string;
  name: string;
  system: string;
  aterm: string;
  atermSha256: string;
  drvPathFingerprint: string;
  drvReferences: string[];
  outputs: Record<string, string>;
  showDerivation: unknown;
  requiredSystemFeatures: string[];
  kind: string;
  maskedModuloAterm?: string;
  hashDerivationModuloMasked?: string;
  fixedModuloPreimage?: string;
  outputPathFingerprints: Record<string, string>;
  drvOutputIds?: Record<string, string>;
  hashDerivationModuloAsInput: Record<string, string>;
}

export interface DerivationVectors {
  nixVersion: string;
  storeDir: string;
  expression: string;
  derivations: Record<string, DerivationVector>;
}

export function loadDerivationVectors(): DerivationVectors {
  return readVectorJson<DerivationVectors>('derivations.json');
}

/** A resolver over a map of drv path → ATerm text; unknown paths fail loudly. */
export function resolverFromAterms(aterms: ReadonlyMap<string, string>): InputDerivationResolver {
  const parsed = new Map<string, Derivation>();
  return (drvPath) => {
    const cached = parsed.get(drvPath);
    if (cached !== undefined) return cached;
    const text = aterms.get(drvPath);
    if (text === undefined) throw new Error(`test resolver: unknown input derivation ${drvPath}`);
    const drv = parseDerivation(text);
    parsed.set(drvPath, drv);
    return drv;
  };
}

/** Reads `/nix/store/...` drv paths from a chroot store rooted at `root`. */
export function resolverFromChroot(root: string): InputDerivationResolver {
  return (drvPath) => parseDerivation(readFileSync(join(root, drvPath)));
}
