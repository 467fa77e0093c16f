// Original file: farm/v1/store.proto


export interface QueryMissingResponse {
  'missing'?: (string)[];
}

export interface QueryMissingResponse__Output {
  'missing': (string)[];
}
