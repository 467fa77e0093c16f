// Original file: farm/v1/store.proto

import type { PathInfo as _farm_v1_PathInfo, PathInfo__Output as _farm_v1_PathInfo__Output } from '../../farm/v1/PathInfo.js';
import type { Lease as _farm_v1_Lease, Lease__Output as _farm_v1_Lease__Output } from '../../farm/v1/Lease.js';

export interface AddPathHeader {
  'info'?: (_farm_v1_PathInfo | null);
  /**
   * Set when the upload is a build output: the lease it was built under. Uploads from a stale
   * epoch are refused (fencing).
   */
  'lease'?: (_farm_v1_Lease | null);
}

export interface AddPathHeader__Output {
  'info': (_farm_v1_PathInfo__Output | null);
  /**
   * Set when the upload is a build output: the lease it was built under. Uploads from a stale
   * epoch are refused (fencing).
   */
  'lease': (_farm_v1_Lease__Output | null);
}
