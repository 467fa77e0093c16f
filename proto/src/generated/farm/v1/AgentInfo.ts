// Original file: farm/v1/coordinator.proto

import type { Capabilities as _farm_v1_Capabilities, Capabilities__Output as _farm_v1_Capabilities__Output } from '../../farm/v1/Capabilities.js';
import type { Long } from '@grpc/proto-loader';

export interface AgentInfo {
  'agentId'?: (string);
  'host'?: (string);
  'capabilities'?: (_farm_v1_Capabilities | null);
  'running'?: (number);
  'draining'?: (boolean);
  'lastHeartbeatMs'?: (number | string | Long);
}

export interface AgentInfo__Output {
  'agentId': (string);
  'host': (string);
  'capabilities': (_farm_v1_Capabilities__Output | null);
  'running': (number);
  'draining': (boolean);
  'lastHeartbeatMs': (string);
}
