// Original file: farm/v1/agent.proto

import type { Long } from '@grpc/proto-loader';

export interface WorkRequest {
  'agentId'?: (string);
  /**
   * Build slots free now. A lease whose sandbox has exited (outputs uploading, result being
   * reported) does not take a slot: an agent holds at most 2 × max_jobs leases, max_jobs of them
   * building, and the coordinator never assigns beyond that.
   */
  'freeSlots'?: (number);
  /**
   * long-poll budget
   */
  'waitMs'?: (number | string | Long);
}

export interface WorkRequest__Output {
  'agentId': (string);
  /**
   * Build slots free now. A lease whose sandbox has exited (outputs uploading, result being
   * reported) does not take a slot: an agent holds at most 2 × max_jobs leases, max_jobs of them
   * building, and the coordinator never assigns beyond that.
   */
  'freeSlots': (number);
  /**
   * long-poll budget
   */
  'waitMs': (string);
}
