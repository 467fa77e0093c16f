/**
 * Limits applied while reading untrusted NARs. Every length read from the input is checked
 * against these before any buffer of that size is allocated or any byte of it is read.
 */
export interface NarLimits {
  /** Longest directory entry name or symlink target, in bytes. */
  readonly maxTokenLength: number;
  /** Largest single regular file, in bytes. */
  readonly maxFileSize: number;
  /** Largest whole NAR (narSize), in bytes. */
  readonly maxNarSize: number;
  /** Deepest directory nesting (the root directory is depth 0). */
  readonly maxDepth: number;
}

export const DEFAULT_NAR_LIMITS: NarLimits = {
  maxTokenLength: 4096,
  maxFileSize: Number.MAX_SAFE_INTEGER,
  maxNarSize: Number.MAX_SAFE_INTEGER,
  // Linux paths cannot nest deeper than PATH_MAX/2 components anyway; 4096 leaves headroom.
  maxDepth: 4096,
};

export function resolveLimits(partial: Partial<NarLimits> | undefined): NarLimits {
  return { ...DEFAULT_NAR_LIMITS, ...partial };
}
