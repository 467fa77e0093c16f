// Original file: farm/v1/coordinator.proto

import type { Long } from '@grpc/proto-loader';

/**
 * One build attempt whose result the coordinator accepted: the coordinator's own record of what
 * ran where, used to prove dedup ("built exactly once") and to measure dispatch latency.
 */
export interface BuildRecord {
  'jobId'?: (string);
  'drvPath'?: (string);
  'epoch'?: (number | string | Long);
  'agentId'?: (string);
  /**
   * built, failed, timed-out, … (BuildStatus without prefix, lower-case)
   */
  'status'?: (string);
  /**
   * when the job last became ready
   */
  'readyMs'?: (number | string | Long);
  /**
   * when it was leased to agent_id
   */
  'assignedMs'?: (number | string | Long);
  /**
   * when the result was applied
   */
  'finishedMs'?: (number | string | Long);
  'message'?: (string);
}

/**
 * One build attempt whose result the coordinator accepted: the coordinator's own record of what
 * ran where, used to prove dedup ("built exactly once") and to measure dispatch latency.
 */
export interface BuildRecord__Output {
  'jobId': (string);
  'drvPath': (string);
  'epoch': (string);
  'agentId': (string);
  /**
   * built, failed, timed-out, … (BuildStatus without prefix, lower-case)
   */
  'status': (string);
  /**
   * when the job last became ready
   */
  'readyMs': (string);
  /**
   * when it was leased to agent_id
   */
  'assignedMs': (string);
  /**
   * when the result was applied
   */
  'finishedMs': (string);
  'message': (string);
}
