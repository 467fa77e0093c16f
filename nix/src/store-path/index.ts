export * from './store-path.js';
export * from './make-paths.js';
