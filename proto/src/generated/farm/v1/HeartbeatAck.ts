// Original file: farm/v1/agent.proto

import type { Lease as _farm_v1_Lease, Lease__Output as _farm_v1_Lease__Output } from '../../farm/v1/Lease.js';
import type { Long } from '@grpc/proto-loader';

export interface HeartbeatAck {
  'renewed'?: (_farm_v1_Lease)[];
  /**
   * stop these builds now (self-fencing)
   */
  'revoked'?: (_farm_v1_Lease)[];
  'leaseDeadlineMs'?: (number | string | Long);
}

export interface HeartbeatAck__Output {
  'renewed': (_farm_v1_Lease__Output)[];
  /**
   * stop these builds now (self-fencing)
   */
  'revoked': (_farm_v1_Lease__Output)[];
  'leaseDeadlineMs': (string);
}
