// Original file: farm/v1/coordinator.proto


export interface DerivationUpload {
  'drvPath'?: (string);
  'aterm'?: (Buffer | Uint8Array | string);
}

export interface DerivationUpload__Output {
  'drvPath': (string);
  'aterm': (Buffer);
}
