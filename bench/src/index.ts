export * from './nar-bench.js';
export * from './trees.js';
export * from './farm-bench.js';
export * from './sim/dags.js';
export * from './sim/debian-dag.js';
