export * from './nar-bench.js';
export * from './trees.js';
