// Original file: farm/v1/coordinator.proto

import type { JobState as _farm_v1_JobState, JobState__Output as _farm_v1_JobState__Output } from '../../farm/v1/JobState.js';
import type { ExplainWaitingInput as _farm_v1_ExplainWaitingInput, ExplainWaitingInput__Output as _farm_v1_ExplainWaitingInput__Output } from '../../farm/v1/ExplainWaitingInput.js';
import type { ExplainAgent as _farm_v1_ExplainAgent, ExplainAgent__Output as _farm_v1_ExplainAgent__Output } from '../../farm/v1/ExplainAgent.js';
import type { Long } from '@grpc/proto-loader';

export interface ExplainResponse {
  'jobId'?: (string);
  'drvPath'?: (string);
  'state'?: (_farm_v1_JobState);
  'epoch'?: (number | string | Long);
  'attempts'?: (number);
  'submissions'?: (string)[];
  /**
   * one sentence: why it is not running, or why it ran where it did
   */
  'summary'?: (string);
  /**
   * further facts, one per line
   */
  'details'?: (string)[];
  /**
   * inputs not built yet (waiting jobs)
   */
  'waitingFor'?: (_farm_v1_ExplainWaitingInput)[];
  /**
   * the connected agents and whether each fits (ready jobs)
   */
  'agents'?: (_farm_v1_ExplainAgent)[];
  /**
   * 1-based place among the ready jobs the same agents could take; 0 = n/a
   */
  'position'?: (number);
  /**
   * a retry backoff not over yet; 0 = none
   */
  'backoffUntilMs'?: (number | string | Long);
  /**
   * agents it had infrastructure failures on
   */
  'failedAgents'?: (string)[];
  /**
   * the agent of the current or last lease
   */
  'agentId'?: (string);
  /**
   * why that agent got it
   */
  'placement'?: (string);
  /**
   * predicted remaining critical path
   */
  'criticalPathMs'?: (number | string | Long);
  /**
   * predicted build time
   */
  'estimateMs'?: (number | string | Long);
  'priority'?: (number);
}

export interface ExplainResponse__Output {
  'jobId': (string);
  'drvPath': (string);
  'state': (_farm_v1_JobState__Output);
  'epoch': (string);
  'attempts': (number);
  'submissions': (string)[];
  /**
   * one sentence: why it is not running, or why it ran where it did
   */
  'summary': (string);
  /**
   * further facts, one per line
   */
  'details': (string)[];
  /**
   * inputs not built yet (waiting jobs)
   */
  'waitingFor': (_farm_v1_ExplainWaitingInput__Output)[];
  /**
   * the connected agents and whether each fits (ready jobs)
   */
  'agents': (_farm_v1_ExplainAgent__Output)[];
  /**
   * 1-based place among the ready jobs the same agents could take; 0 = n/a
   */
  'position': (number);
  /**
   * a retry backoff not over yet; 0 = none
   */
  'backoffUntilMs': (string);
  /**
   * agents it had infrastructure failures on
   */
  'failedAgents': (string)[];
  /**
   * the agent of the current or last lease
   */
  'agentId': (string);
  /**
   * why that agent got it
   */
  'placement': (string);
  /**
   * predicted remaining critical path
   */
  'criticalPathMs': (string);
  /**
   * predicted build time
   */
  'estimateMs': (string);
  'priority': (number);
}
