// Original file: farm/v1/coordinator.proto

export const JobState = {
  JOB_STATE_UNSPECIFIED: 'JOB_STATE_UNSPECIFIED',
  /**
   * inputs not yet valid
   */
  JOB_STATE_WAITING: 'JOB_STATE_WAITING',
  /**
   * queued; see `reason` for why it is not running
   */
  JOB_STATE_READY: 'JOB_STATE_READY',
  JOB_STATE_RUNNING: 'JOB_STATE_RUNNING',
  JOB_STATE_SUCCEEDED: 'JOB_STATE_SUCCEEDED',
  JOB_STATE_FAILED: 'JOB_STATE_FAILED',
  JOB_STATE_DEPENDENCY_FAILED: 'JOB_STATE_DEPENDENCY_FAILED',
  JOB_STATE_CANCELLED: 'JOB_STATE_CANCELLED',
  JOB_STATE_ALREADY_VALID: 'JOB_STATE_ALREADY_VALID',
} as const;

export type JobState =
  | 'JOB_STATE_UNSPECIFIED'
  | 0
  /**
   * inputs not yet valid
   */
  | 'JOB_STATE_WAITING'
  | 1
  /**
   * queued; see `reason` for why it is not running
   */
  | 'JOB_STATE_READY'
  | 2
  | 'JOB_STATE_RUNNING'
  | 3
  | 'JOB_STATE_SUCCEEDED'
  | 4
  | 'JOB_STATE_FAILED'
  | 5
  | 'JOB_STATE_DEPENDENCY_FAILED'
  | 6
  | 'JOB_STATE_CANCELLED'
  | 7
  | 'JOB_STATE_ALREADY_VALID'
  | 8

export type JobState__Output = typeof JobState[keyof typeof JobState]
