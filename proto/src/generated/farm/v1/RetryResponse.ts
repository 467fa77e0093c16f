// Original file: farm/v1/coordinator.proto


export interface RetryResponse {
  /**
   * the new submission
   */
  'submissionId'?: (string);
  /**
   * drv paths whose failures were forgotten
   */
  'retried'?: (string)[];
  /**
   * the submission retried ('' = none: the drv alone)
   */
  'retryOf'?: (string);
  /**
   * the new submission's roots
   */
  'roots'?: (string)[];
  /**
   * as in SubmitResponse
   */
  'jobsTotal'?: (number);
  'alreadyValid'?: (number);
  'shared'?: (number);
}

export interface RetryResponse__Output {
  /**
   * the new submission
   */
  'submissionId': (string);
  /**
   * drv paths whose failures were forgotten
   */
  'retried': (string)[];
  /**
   * the submission retried ('' = none: the drv alone)
   */
  'retryOf': (string);
  /**
   * the new submission's roots
   */
  'roots': (string)[];
  /**
   * as in SubmitResponse
   */
  'jobsTotal': (number);
  'alreadyValid': (number);
  'shared': (number);
}
