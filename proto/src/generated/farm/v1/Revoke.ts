// Original file: farm/v1/agent.proto

import type { Lease as _farm_v1_Lease, Lease__Output as _farm_v1_Lease__Output } from '../../farm/v1/Lease.js';

export interface Revoke {
  'lease'?: (_farm_v1_Lease | null);
  'reason'?: (string);
}

export interface Revoke__Output {
  'lease': (_farm_v1_Lease__Output | null);
  'reason': (string);
}
