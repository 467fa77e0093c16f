// Original file: farm/v1/store.proto

import type { Long } from '@grpc/proto-loader';

/**
 * What the farm knows about one valid store path (Nix's ValidPathInfo). Hash and paths use
 * Nix's own textual forms so they can be compared with what Nix prints.
 */
export interface PathInfo {
  /**
   * full store path, /nix/store/<hash>-<name>
   */
  'path'?: (string);
  /**
   * full .drv path, or empty when unknown
   */
  'deriver'?: (string);
  /**
   * sha256:<nix32>
   */
  'narHash'?: (string);
  'narSize'?: (number | string | Long);
  /**
   * full store paths, sorted bytewise
   */
  'references'?: (string)[];
  /**
   * seconds since the epoch
   */
  'registrationTime'?: (number | string | Long);
  /**
   * <keyName>:<base64>
   */
  'sigs'?: (string)[];
  /**
   * content address (text:sha256:… / fixed:r:sha256:…), or empty
   */
  'ca'?: (string);
}

/**
 * What the farm knows about one valid store path (Nix's ValidPathInfo). Hash and paths use
 * Nix's own textual forms so they can be compared with what Nix prints.
 */
export interface PathInfo__Output {
  /**
   * full store path, /nix/store/<hash>-<name>
   */
  'path': (string);
  /**
   * full .drv path, or empty when unknown
   */
  'deriver': (string);
  /**
   * sha256:<nix32>
   */
  'narHash': (string);
  'narSize': (string);
  /**
   * full store paths, sorted bytewise
   */
  'references': (string)[];
  /**
   * seconds since the epoch
   */
  'registrationTime': (string);
  /**
   * <keyName>:<base64>
   */
  'sigs': (string)[];
  /**
   * content address (text:sha256:… / fixed:r:sha256:…), or empty
   */
  'ca': (string);
}
