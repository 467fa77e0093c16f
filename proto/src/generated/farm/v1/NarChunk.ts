// Original file: farm/v1/store.proto


export interface NarChunk {
  'data'?: (Buffer | Uint8Array | string);
}

export interface NarChunk__Output {
  'data': (Buffer);
}
