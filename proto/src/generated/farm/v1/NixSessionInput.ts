// Original file: farm/v1/coordinator.proto

import type { NixSessionOpen as _farm_v1_NixSessionOpen, NixSessionOpen__Output as _farm_v1_NixSessionOpen__Output } from '../../farm/v1/NixSessionOpen.js';

export interface NixSessionInput {
  'open'?: (_farm_v1_NixSessionOpen | null);
  'stdin'?: (Buffer | Uint8Array | string);
  'kind'?: "open"|"stdin";
}

export interface NixSessionInput__Output {
  'open'?: (_farm_v1_NixSessionOpen__Output | null);
  'stdin'?: (Buffer);
  'kind'?: "open"|"stdin";
}
