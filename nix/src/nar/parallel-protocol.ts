/**
 * Shared-memory layout and messages between the parallel NAR assembler (main thread) and its
 * helper worker. Both claim top-level entries from one atomic counter (`NEXT`), so each entry is
 * dumped by exactly one of them; the helper posts its fragments in claim order (increasing), which
 * is the order the assembler needs them, so a bounded buffer (`OUTSTANDING_CAP`) cannot deadlock.
 */
import type { MessagePort } from 'node:worker_threads';

export const CTRL = {
  /** Next unclaimed entry index (fetch-and-add to claim). */
  NEXT: 0,
  /** Bumped after every message the helper posts (the assembler waits on it). */
  SIGNAL: 1,
  /** Bytes posted by the helper and not yet consumed (the helper waits while above the cap). */
  OUTSTANDING: 2,
  /** Set to 1 by the assembler to make the helper stop early. */
  STOP: 3,
} as const;
export const CTRL_SLOTS = 4;
export const OUTSTANDING_CAP = 64 * 1024 * 1024;

export interface HelperData {
  readonly root: Uint8Array;
  readonly names: Uint8Array[];
  readonly ctrl: SharedArrayBuffer;
  readonly port: MessagePort;
}

export type HelperMessage =
  | { readonly i: number; readonly kind: 'chunk'; readonly buf: ArrayBuffer; readonly off: number; readonly len: number }
  | { readonly i: number; readonly kind: 'end' }
  | { readonly i: number; readonly kind: 'error'; readonly code: string; readonly message: string };
