// Original file: farm/v1/coordinator.proto


export interface NixSessionOutput {
  'stdout'?: (Buffer | Uint8Array | string);
  'stderr'?: (Buffer | Uint8Array | string);
  /**
   * the last message
   */
  'exitStatus'?: (number);
  'kind'?: "stdout"|"stderr"|"exitStatus";
}

export interface NixSessionOutput__Output {
  'stdout'?: (Buffer);
  'stderr'?: (Buffer);
  /**
   * the last message
   */
  'exitStatus'?: (number);
  'kind'?: "stdout"|"stderr"|"exitStatus";
}
