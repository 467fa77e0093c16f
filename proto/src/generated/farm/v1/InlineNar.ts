// Original file: farm/v1/agent.proto


/**
 * One store path's NAR carried inside another message (small paths only; see the fields).
 */
export interface InlineNar {
  'path'?: (string);
  'nar'?: (Buffer | Uint8Array | string);
}

/**
 * One store path's NAR carried inside another message (small paths only; see the fields).
 */
export interface InlineNar__Output {
  'path': (string);
  'nar': (Buffer);
}
