// Original file: farm/v1/agent.proto

import type { Long } from '@grpc/proto-loader';

export interface AgentWelcome {
  'agentId'?: (string);
  'leaseMs'?: (number | string | Long);
  'heartbeatMs'?: (number | string | Long);
}

export interface AgentWelcome__Output {
  'agentId': (string);
  'leaseMs': (string);
  'heartbeatMs': (string);
}
