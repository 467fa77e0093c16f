export * from './lmdb/index.js';
export * from './store/index.js';
export * from './state/index.js';
export * from './grpc/index.js';
export * from './nats/index.js';
export * from './nix-door/index.js';
export * from './ssh/index.js';
export * from './http-cache/index.js';
