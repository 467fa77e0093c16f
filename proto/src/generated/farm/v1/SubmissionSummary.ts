// Original file: farm/v1/coordinator.proto

import type { Long } from '@grpc/proto-loader';

export interface SubmissionSummary {
  'submissionId'?: (string);
  'client'?: (string);
  'createdMs'?: (number | string | Long);
  'jobsTotal'?: (number);
  'succeeded'?: (number);
  /**
   * failed, dependency failed or cancelled
   */
  'failed'?: (number);
  'done'?: (boolean);
  /**
   * root drv paths
   */
  'roots'?: (string)[];
}

export interface SubmissionSummary__Output {
  'submissionId': (string);
  'client': (string);
  'createdMs': (string);
  'jobsTotal': (number);
  'succeeded': (number);
  /**
   * failed, dependency failed or cancelled
   */
  'failed': (number);
  'done': (boolean);
  /**
   * root drv paths
   */
  'roots': (string)[];
}
