// Original file: farm/v1/store.proto


export interface AddPathResponse {
  /**
   * true when the path was valid before this upload (the NAR was drained)
   */
  'alreadyValid'?: (boolean);
}

export interface AddPathResponse__Output {
  /**
   * true when the path was valid before this upload (the NAR was drained)
   */
  'alreadyValid': (boolean);
}
