export * from './lmdb/index.js';
export * from './store/index.js';
