// Original file: farm/v1/coordinator.proto


export interface StatusRequest {
  /**
   * empty = the whole farm
   */
  'submissionId'?: (string);
}

export interface StatusRequest__Output {
  /**
   * empty = the whole farm
   */
  'submissionId': (string);
}
