/** Typed access to shared/vectors/binary-cache.json (two caches written by Nix 2.8's `nix copy`). */
import { readVectorJson } from './vectors.js';

export interface CacheEntry {
  file: string;
  narinfo: string;
  fingerprint: string;
  signatureVerified: boolean;
  narFile: string;
  narFileSize: number;
  narSize: number;
  narFileBase64?: string;
}
export interface BinaryCacheVectors {
  nixVersion: string;
  publicKey: string;
  secretKeyNote: string;
  secretKeyFile: string;
  caches: Record<'none' | 'xz', { command: string; nixCacheInfo: string; narinfos: CacheEntry[] }>;
  nixStoreVerify: { command: string; exit: number; stderr: string };
}

export function readBinaryCacheVectors(): BinaryCacheVectors {
  return readVectorJson<BinaryCacheVectors>('binary-cache.json');
}
