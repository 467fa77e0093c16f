// Original file: farm/v1/agent.proto

import type { Lease as _farm_v1_Lease, Lease__Output as _farm_v1_Lease__Output } from '../../farm/v1/Lease.js';
import type { BasicDerivation as _farm_v1_BasicDerivation, BasicDerivation__Output as _farm_v1_BasicDerivation__Output } from '../../farm/v1/BasicDerivation.js';
import type { PathInfo as _farm_v1_PathInfo, PathInfo__Output as _farm_v1_PathInfo__Output } from '../../farm/v1/PathInfo.js';
import type { InlineNar as _farm_v1_InlineNar, InlineNar__Output as _farm_v1_InlineNar__Output } from '../../farm/v1/InlineNar.js';
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
  /**
   * NARs of some small inputs (each at most 64 KiB, 256 KiB in all, the outputs of the direct
   * input derivations first), so that the agent need not call GetNar for them. The agent verifies
   * them against `inputs` exactly as a fetched NAR; inputs not here are fetched with GetNar.
   */
  'inputNars'?: (_farm_v1_InlineNar)[];
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
  /**
   * NARs of some small inputs (each at most 64 KiB, 256 KiB in all, the outputs of the direct
   * input derivations first), so that the agent need not call GetNar for them. The agent verifies
   * them against `inputs` exactly as a fetched NAR; inputs not here are fetched with GetNar.
   */
  'inputNars': (_farm_v1_InlineNar__Output)[];
}
