// Original file: farm/v1/coordinator.proto

import type { Long } from '@grpc/proto-loader';

export interface LogChunk {
  'jobId'?: (string);
  'epoch'?: (number | string | Long);
  'seq'?: (number | string | Long);
  'data'?: (Buffer | Uint8Array | string);
  /**
   * the per-job log limit was hit here
   */
  'truncated'?: (boolean);
  /**
   * the last chunk of this attempt (epoch); data may be empty
   */
  'eof'?: (boolean);
}

export interface LogChunk__Output {
  'jobId': (string);
  'epoch': (string);
  'seq': (string);
  'data': (Buffer);
  /**
   * the per-job log limit was hit here
   */
  'truncated': (boolean);
  /**
   * the last chunk of this attempt (epoch); data may be empty
   */
  'eof': (boolean);
}
