export * from './nix32.js';
export * from './hash.js';
