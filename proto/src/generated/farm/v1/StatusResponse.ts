// Original file: farm/v1/coordinator.proto

import type { SubmissionEvent as _farm_v1_SubmissionEvent, SubmissionEvent__Output as _farm_v1_SubmissionEvent__Output } from '../../farm/v1/SubmissionEvent.js';
import type { SubmissionSummary as _farm_v1_SubmissionSummary, SubmissionSummary__Output as _farm_v1_SubmissionSummary__Output } from '../../farm/v1/SubmissionSummary.js';

export interface StatusResponse {
  'jobsByState'?: ({[key: string]: number});
  /**
   * latest event per job (for a submission)
   */
  'jobs'?: (_farm_v1_SubmissionEvent)[];
  /**
   * every submission (farm-wide), or the one asked for
   */
  'submissions'?: (_farm_v1_SubmissionSummary)[];
}

export interface StatusResponse__Output {
  'jobsByState': ({[key: string]: number});
  /**
   * latest event per job (for a submission)
   */
  'jobs': (_farm_v1_SubmissionEvent__Output)[];
  /**
   * every submission (farm-wide), or the one asked for
   */
  'submissions': (_farm_v1_SubmissionSummary__Output)[];
}
