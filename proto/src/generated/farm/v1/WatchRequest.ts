// Original file: farm/v1/coordinator.proto

import type { Long } from '@grpc/proto-loader';

export interface WatchRequest {
  'submissionId'?: (string);
  'fromSequence'?: (number | string | Long);
}

export interface WatchRequest__Output {
  'submissionId': (string);
  'fromSequence': (string);
}
