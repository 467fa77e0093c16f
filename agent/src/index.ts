export * from './capabilities.js';
export * from './sandbox/index.js';
export * from './build/index.js';
