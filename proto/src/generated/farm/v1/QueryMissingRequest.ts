// Original file: farm/v1/store.proto


export interface QueryMissingRequest {
  'paths'?: (string)[];
}

export interface QueryMissingRequest__Output {
  'paths': (string)[];
}
