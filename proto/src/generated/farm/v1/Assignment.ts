// Original file: farm/v1/agent.proto

import type { Lease as _farm_v1_Lease, Lease__Output as _farm_v1_Lease__Output } from '../../farm/v1/Lease.js';
import type { BasicDerivation as _farm_v1_BasicDerivation, BasicDerivation__Output as _farm_v1_BasicDerivation__Output } from '../../farm/v1/BasicDerivation.js';
import type { PathInfo as _farm_v1_PathInfo, PathInfo__Output as _farm_v1_PathInfo__Output } from '../../farm/v1/PathInfo.js';
import type { Long } from '@grpc/proto-loader';

export interface Assignment {
  'lease'?: (_farm_v1_Lease | null);
  'deadlineMs'?: (number | string | Long);
  'drvPath'?: (string);
  'drv'?: (_farm_v1_BasicDerivation | null);
  /**
   * the input closure to fetch (GetNar) and verify
   */
  'inputs'?: (_farm_v1_PathInfo)[];
  'timeoutMs'?: (number | string | Long);
  'maxSilentMs'?: (number | string | Long);
  'maxLogBytes'?: (number | string | Long);
}

export interface Assignment__Output {
  'lease': (_farm_v1_Lease__Output | null);
  'deadlineMs': (string);
  'drvPath': (string);
  'drv': (_farm_v1_BasicDerivation__Output | null);
  /**
   * the input closure to fetch (GetNar) and verify
   */
  'inputs': (_farm_v1_PathInfo__Output)[];
  'timeoutMs': (string);
  'maxSilentMs': (string);
  'maxLogBytes': (string);
}
