// Original file: farm/v1/coordinator.proto


export interface AddDerivationsResponse {
  /**
   * one per derivation, in request order
   */
  'alreadyValid'?: (boolean)[];
}

export interface AddDerivationsResponse__Output {
  /**
   * one per derivation, in request order
   */
  'alreadyValid': (boolean)[];
}
