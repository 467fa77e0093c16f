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
}
