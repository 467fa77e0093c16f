// Original file: farm/v1/coordinator.proto

import type { BuildRecord as _farm_v1_BuildRecord, BuildRecord__Output as _farm_v1_BuildRecord__Output } from '../../farm/v1/BuildRecord.js';

export interface ListBuildsResponse {
  'builds'?: (_farm_v1_BuildRecord)[];
}

export interface ListBuildsResponse__Output {
  'builds': (_farm_v1_BuildRecord__Output)[];
}
