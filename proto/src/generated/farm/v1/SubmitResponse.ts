// Original file: farm/v1/coordinator.proto


export interface SubmitResponse {
  'submissionId'?: (string);
  /**
   * derivations this submission needs built (after dedup)
   */
  'jobsTotal'?: (number);
  /**
   * derivations whose outputs the farm already has
   */
  'alreadyValid'?: (number);
  /**
   * queued or running for another submission
   */
  'shared'?: (number);
}

export interface SubmitResponse__Output {
  'submissionId': (string);
  /**
   * derivations this submission needs built (after dedup)
   */
  'jobsTotal': (number);
  /**
   * derivations whose outputs the farm already has
   */
  'alreadyValid': (number);
  /**
   * queued or running for another submission
   */
  'shared': (number);
}
