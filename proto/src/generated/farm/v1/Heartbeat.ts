// Original file: farm/v1/agent.proto

import type { Lease as _farm_v1_Lease, Lease__Output as _farm_v1_Lease__Output } from '../../farm/v1/Lease.js';

export interface Heartbeat {
  'agentId'?: (string);
  'leases'?: (_farm_v1_Lease)[];
  'freeSlots'?: (number);
  'draining'?: (boolean);
}

export interface Heartbeat__Output {
  'agentId': (string);
  'leases': (_farm_v1_Lease__Output)[];
  'freeSlots': (number);
  'draining': (boolean);
}
