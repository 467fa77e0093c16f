// Original file: farm/v1/agent.proto

export const BuildStatus = {
  BUILD_STATUS_UNSPECIFIED: 'BUILD_STATUS_UNSPECIFIED',
  BUILD_STATUS_BUILT: 'BUILD_STATUS_BUILT',
  /**
   * Build failures: cached, not retried.
   */
  BUILD_STATUS_FAILED: 'BUILD_STATUS_FAILED',
  BUILD_STATUS_TIMED_OUT: 'BUILD_STATUS_TIMED_OUT',
  BUILD_STATUS_SILENT_TOO_LONG: 'BUILD_STATUS_SILENT_TOO_LONG',
  BUILD_STATUS_OUTPUT_MISSING: 'BUILD_STATUS_OUTPUT_MISSING',
  BUILD_STATUS_LOG_LIMIT: 'BUILD_STATUS_LOG_LIMIT',
  /**
   * Infrastructure failures: retried on another agent.
   */
  BUILD_STATUS_SANDBOX_ERROR: 'BUILD_STATUS_SANDBOX_ERROR',
  BUILD_STATUS_TRANSFER_ERROR: 'BUILD_STATUS_TRANSFER_ERROR',
  BUILD_STATUS_CANCELLED: 'BUILD_STATUS_CANCELLED',
} as const;

export type BuildStatus =
  | 'BUILD_STATUS_UNSPECIFIED'
  | 0
  | 'BUILD_STATUS_BUILT'
  | 1
  /**
   * Build failures: cached, not retried.
   */
  | 'BUILD_STATUS_FAILED'
  | 2
  | 'BUILD_STATUS_TIMED_OUT'
  | 3
  | 'BUILD_STATUS_SILENT_TOO_LONG'
  | 4
  | 'BUILD_STATUS_OUTPUT_MISSING'
  | 5
  | 'BUILD_STATUS_LOG_LIMIT'
  | 6
  /**
   * Infrastructure failures: retried on another agent.
   */
  | 'BUILD_STATUS_SANDBOX_ERROR'
  | 10
  | 'BUILD_STATUS_TRANSFER_ERROR'
  | 11
  | 'BUILD_STATUS_CANCELLED'
  | 12

export type BuildStatus__Output = typeof BuildStatus[keyof typeof BuildStatus]
