// Original file: farm/v1/agent.proto


export interface _farm_v1_BasicDerivation_Output {
  'path'?: (string);
  'hashAlgo'?: (string);
  'hash'?: (string);
}

export interface _farm_v1_BasicDerivation_Output__Output {
  'path': (string);
  'hashAlgo': (string);
  'hash': (string);
}

/**
 * The derivation as Nix sends it over its own protocols (spec §5.4): no inputDrvs.
 */
export interface BasicDerivation {
  'outputs'?: ({[key: string]: _farm_v1_BasicDerivation_Output});
  'inputSrcs'?: (string)[];
  'system'?: (string);
  'builder'?: (string);
  'args'?: (string)[];
  'env'?: ({[key: string]: string});
}

/**
 * The derivation as Nix sends it over its own protocols (spec §5.4): no inputDrvs.
 */
export interface BasicDerivation__Output {
  'outputs': ({[key: string]: _farm_v1_BasicDerivation_Output__Output});
  'inputSrcs': (string)[];
  'system': (string);
  'builder': (string);
  'args': (string)[];
  'env': ({[key: string]: string});
}
