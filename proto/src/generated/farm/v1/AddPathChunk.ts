// Original file: farm/v1/store.proto

import type { AddPathHeader as _farm_v1_AddPathHeader, AddPathHeader__Output as _farm_v1_AddPathHeader__Output } from '../../farm/v1/AddPathHeader.js';

/**
 * One message of a path upload stream: the first carries the header, the rest carry NAR bytes
 * in order. The receiver hashes and parses while it writes and refuses any mismatch.
 */
export interface AddPathChunk {
  'header'?: (_farm_v1_AddPathHeader | null);
  'nar'?: (Buffer | Uint8Array | string);
  'part'?: "header"|"nar";
}

/**
 * One message of a path upload stream: the first carries the header, the rest carry NAR bytes
 * in order. The receiver hashes and parses while it writes and refuses any mismatch.
 */
export interface AddPathChunk__Output {
  'header'?: (_farm_v1_AddPathHeader__Output | null);
  'nar'?: (Buffer);
  'part'?: "header"|"nar";
}
