// Original file: farm/v1/coordinator.proto


export interface RetryRequest {
  /**
   * A submission id (retries its failed jobs), a drv path or a job id (retries that job, with
   * the roots of the newest submission that needed it, so its dependents are rebuilt too).
   */
  'target'?: (string);
}

export interface RetryRequest__Output {
  /**
   * A submission id (retries its failed jobs), a drv path or a job id (retries that job, with
   * the roots of the newest submission that needed it, so its dependents are rebuilt too).
   */
  'target': (string);
}
