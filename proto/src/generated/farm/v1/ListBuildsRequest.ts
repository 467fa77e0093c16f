// Original file: farm/v1/coordinator.proto


export interface ListBuildsRequest {
  /**
   * empty = every build
   */
  'drvPath'?: (string);
}

export interface ListBuildsRequest__Output {
  /**
   * empty = every build
   */
  'drvPath': (string);
}
