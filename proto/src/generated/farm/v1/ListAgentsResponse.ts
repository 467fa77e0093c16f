// Original file: farm/v1/coordinator.proto

import type { AgentInfo as _farm_v1_AgentInfo, AgentInfo__Output as _farm_v1_AgentInfo__Output } from '../../farm/v1/AgentInfo.js';

export interface ListAgentsResponse {
  'agents'?: (_farm_v1_AgentInfo)[];
}

export interface ListAgentsResponse__Output {
  'agents': (_farm_v1_AgentInfo__Output)[];
}
