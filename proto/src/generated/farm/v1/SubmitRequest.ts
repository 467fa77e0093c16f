// Original file: farm/v1/coordinator.proto

import type { Long } from '@grpc/proto-loader';

export interface _farm_v1_SubmitRequest_Root {
  'drvPath'?: (string);
  /**
   * empty = all outputs
   */
  'outputs'?: (string)[];
  /**
   * e.g. pkgsCross.aarch64.hello, for display
   */
  'attrPath'?: (string);
}

export interface _farm_v1_SubmitRequest_Root__Output {
  'drvPath': (string);
  /**
   * empty = all outputs
   */
  'outputs': (string)[];
  /**
   * e.g. pkgsCross.aarch64.hello, for display
   */
  'attrPath': (string);
}

export interface SubmitRequest {
  'roots'?: (_farm_v1_SubmitRequest_Root)[];
  /**
   * user bump; higher runs earlier among equals
   */
  'priority'?: (number);
  /**
   * who submitted (user@host), for display and fair share
   */
  'client'?: (string);
  /**
   * per-job build timeout (Nix's --timeout); 0 = the farm's default
   */
  'timeoutMs'?: (number | string | Long);
  /**
   * per-job --max-silent-time; 0 = the farm's default
   */
  'maxSilentMs'?: (number | string | Long);
}

export interface SubmitRequest__Output {
  'roots': (_farm_v1_SubmitRequest_Root__Output)[];
  /**
   * user bump; higher runs earlier among equals
   */
  'priority': (number);
  /**
   * who submitted (user@host), for display and fair share
   */
  'client': (string);
  /**
   * per-job build timeout (Nix's --timeout); 0 = the farm's default
   */
  'timeoutMs': (string);
  /**
   * per-job --max-silent-time; 0 = the farm's default
   */
  'maxSilentMs': (string);
}
