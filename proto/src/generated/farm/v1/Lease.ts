// Original file: farm/v1/store.proto

import type { Long } from '@grpc/proto-loader';

export interface Lease {
  'jobId'?: (string);
  'epoch'?: (number | string | Long);
}

export interface Lease__Output {
  'jobId': (string);
  'epoch': (string);
}
