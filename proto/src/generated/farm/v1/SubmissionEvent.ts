// Original file: farm/v1/coordinator.proto

import type { JobState as _farm_v1_JobState, JobState__Output as _farm_v1_JobState__Output } from '../../farm/v1/JobState.js';
import type { Long } from '@grpc/proto-loader';

export interface SubmissionEvent {
  'sequence'?: (number | string | Long);
  'submissionId'?: (string);
  'jobId'?: (string);
  'drvPath'?: (string);
  'state'?: (_farm_v1_JobState);
  'agentId'?: (string);
  /**
   * waiting for capacity (missing system/features), failure message, …
   */
  'reason'?: (string);
  'timeMs'?: (number | string | Long);
  /**
   * output name → path, when succeeded
   */
  'outputs'?: ({[key: string]: string});
  /**
   * the last event of the submission
   */
  'final'?: (boolean);
}

export interface SubmissionEvent__Output {
  'sequence': (string);
  'submissionId': (string);
  'jobId': (string);
  'drvPath': (string);
  'state': (_farm_v1_JobState__Output);
  'agentId': (string);
  /**
   * waiting for capacity (missing system/features), failure message, …
   */
  'reason': (string);
  'timeMs': (string);
  /**
   * output name → path, when succeeded
   */
  'outputs': ({[key: string]: string});
  /**
   * the last event of the submission
   */
  'final': (boolean);
}
