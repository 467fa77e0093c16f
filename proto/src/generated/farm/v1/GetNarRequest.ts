// Original file: farm/v1/store.proto


export interface GetNarRequest {
  'path'?: (string);
}

export interface GetNarRequest__Output {
  'path': (string);
}
