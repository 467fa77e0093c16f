// Original file: farm/v1/agent.proto

import type { Capabilities as _farm_v1_Capabilities, Capabilities__Output as _farm_v1_Capabilities__Output } from '../../farm/v1/Capabilities.js';
import type { Lease as _farm_v1_Lease, Lease__Output as _farm_v1_Lease__Output } from '../../farm/v1/Lease.js';

export interface AgentHello {
  'host'?: (string);
  'capabilities'?: (_farm_v1_Capabilities | null);
  'version'?: (string);
  /**
   * leases held across a coordinator restart, to be re-adopted
   */
  'running'?: (_farm_v1_Lease)[];
  /**
   * stable unique agent name (subject-safe); becomes its agent_id
   */
  'name'?: (string);
}

export interface AgentHello__Output {
  'host': (string);
  'capabilities': (_farm_v1_Capabilities__Output | null);
  'version': (string);
  /**
   * leases held across a coordinator restart, to be re-adopted
   */
  'running': (_farm_v1_Lease__Output)[];
  /**
   * stable unique agent name (subject-safe); becomes its agent_id
   */
  'name': (string);
}
