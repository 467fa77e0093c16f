// Original file: farm/v1/coordinator.proto

import type { JobState as _farm_v1_JobState, JobState__Output as _farm_v1_JobState__Output } from '../../farm/v1/JobState.js';

export interface ExplainWaitingInput {
  'drvPath'?: (string);
  'state'?: (_farm_v1_JobState);
}

export interface ExplainWaitingInput__Output {
  'drvPath': (string);
  'state': (_farm_v1_JobState__Output);
}
