// Original file: farm/v1/coordinator.proto


export interface ExplainRequest {
  /**
   * or
   */
  'drvPath'?: (string);
  'jobId'?: (string);
}

export interface ExplainRequest__Output {
  /**
   * or
   */
  'drvPath': (string);
  'jobId': (string);
}
