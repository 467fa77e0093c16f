// Original file: farm/v1/agent.proto

import type { Lease as _farm_v1_Lease, Lease__Output as _farm_v1_Lease__Output } from '../../farm/v1/Lease.js';
import type { BuildStatus as _farm_v1_BuildStatus, BuildStatus__Output as _farm_v1_BuildStatus__Output } from '../../farm/v1/BuildStatus.js';
import type { PathInfo as _farm_v1_PathInfo, PathInfo__Output as _farm_v1_PathInfo__Output } from '../../farm/v1/PathInfo.js';
import type { InlineNar as _farm_v1_InlineNar, InlineNar__Output as _farm_v1_InlineNar__Output } from '../../farm/v1/InlineNar.js';
import type { Long } from '@grpc/proto-loader';

export interface BuildResult {
  'lease'?: (_farm_v1_Lease | null);
  'agentId'?: (string);
  'status'?: (_farm_v1_BuildStatus);
  'message'?: (string);
  /**
   * uploaded before this result is published, or in output_nars
   */
  'outputs'?: (_farm_v1_PathInfo)[];
  'logTail'?: (Buffer | Uint8Array | string);
  'startMs'?: (number | string | Long);
  'stopMs'?: (number | string | Long);
  /**
   * When every output's NAR is small (each at most 64 KiB, 256 KiB in all), the NARs ride here,
   * in reference order, instead of separate AddPath uploads: the coordinator verifies and stores
   * them (under this result's lease) before applying the result. Either all outputs or none.
   */
  'outputNars'?: (_farm_v1_InlineNar)[];
}

export interface BuildResult__Output {
  'lease': (_farm_v1_Lease__Output | null);
  'agentId': (string);
  'status': (_farm_v1_BuildStatus__Output);
  'message': (string);
  /**
   * uploaded before this result is published, or in output_nars
   */
  'outputs': (_farm_v1_PathInfo__Output)[];
  'logTail': (Buffer);
  'startMs': (string);
  'stopMs': (string);
  /**
   * When every output's NAR is small (each at most 64 KiB, 256 KiB in all), the NARs ride here,
   * in reference order, instead of separate AddPath uploads: the coordinator verifies and stores
   * them (under this result's lease) before applying the result. Either all outputs or none.
   */
  'outputNars': (_farm_v1_InlineNar__Output)[];
}
