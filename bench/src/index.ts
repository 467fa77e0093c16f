export * from './nar-bench.js';
export * from './trees.js';
export * from './farm-bench.js';
