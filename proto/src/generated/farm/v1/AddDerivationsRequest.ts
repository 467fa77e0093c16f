// Original file: farm/v1/coordinator.proto

import type { DerivationUpload as _farm_v1_DerivationUpload, DerivationUpload__Output as _farm_v1_DerivationUpload__Output } from '../../farm/v1/DerivationUpload.js';

export interface AddDerivationsRequest {
  /**
   * dependencies first; at most 10,000
   */
  'derivations'?: (_farm_v1_DerivationUpload)[];
}

export interface AddDerivationsRequest__Output {
  /**
   * dependencies first; at most 10,000
   */
  'derivations': (_farm_v1_DerivationUpload__Output)[];
}
