// Original file: farm/v1/common.proto


/**
 * What an agent can build, as Nix's machines file describes a builder (spec §8.1).
 */
export interface Capabilities {
  'systems'?: (string)[];
  'supportedFeatures'?: (string)[];
  'mandatoryFeatures'?: (string)[];
  'maxJobs'?: (number);
  'speedFactor'?: (number | string);
  /**
   * Systems the agent runs through an emulator (qemu-user), and how: system → a description such
   * as "binfmt (/usr/libexec/qemu-binfmt/aarch64-binfmt-P)" or "qemu (/usr/bin/qemu-aarch64-static)".
   * Systems not listed are native. Informational: routing uses `systems` alone.
   */
  'emulated'?: ({[key: string]: string});
}

/**
 * What an agent can build, as Nix's machines file describes a builder (spec §8.1).
 */
export interface Capabilities__Output {
  'systems': (string)[];
  'supportedFeatures': (string)[];
  'mandatoryFeatures': (string)[];
  'maxJobs': (number);
  'speedFactor': (number);
  /**
   * Systems the agent runs through an emulator (qemu-user), and how: system → a description such
   * as "binfmt (/usr/libexec/qemu-binfmt/aarch64-binfmt-P)" or "qemu (/usr/bin/qemu-aarch64-static)".
   * Systems not listed are native. Informational: routing uses `systems` alone.
   */
  'emulated': ({[key: string]: string});
}
