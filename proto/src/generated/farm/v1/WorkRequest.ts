// Original file: farm/v1/agent.proto

import type { Long } from '@grpc/proto-loader';

export interface WorkRequest {
  'agentId'?: (string);
  'freeSlots'?: (number);
  /**
   * long-poll budget
   */
  'waitMs'?: (number | string | Long);
}

export interface WorkRequest__Output {
  'agentId': (string);
  'freeSlots': (number);
  /**
   * long-poll budget
   */
  'waitMs': (string);
}
