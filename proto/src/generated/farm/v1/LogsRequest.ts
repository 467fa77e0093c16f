// Original file: farm/v1/coordinator.proto


export interface LogsRequest {
  /**
   * or
   */
  'drvPath'?: (string);
  'jobId'?: (string);
  'follow'?: (boolean);
}

export interface LogsRequest__Output {
  /**
   * or
   */
  'drvPath': (string);
  'jobId': (string);
  'follow': (boolean);
}
