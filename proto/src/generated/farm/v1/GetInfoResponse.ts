// Original file: farm/v1/coordinator.proto

import type { Capabilities as _farm_v1_Capabilities, Capabilities__Output as _farm_v1_Capabilities__Output } from '../../farm/v1/Capabilities.js';

export interface GetInfoResponse {
  'version'?: (string);
  'storeDir'?: (string);
  'agents'?: (_farm_v1_Capabilities)[];
}

export interface GetInfoResponse__Output {
  'version': (string);
  'storeDir': (string);
  'agents': (_farm_v1_Capabilities__Output)[];
}
