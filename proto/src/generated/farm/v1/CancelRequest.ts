// Original file: farm/v1/coordinator.proto


export interface CancelRequest {
  'submissionId'?: (string);
}

export interface CancelRequest__Output {
  'submissionId': (string);
}
