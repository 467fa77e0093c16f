export * from './errors.js';
export * from './hash/index.js';
export * from './store-path/index.js';
export * from './io/index.js';
