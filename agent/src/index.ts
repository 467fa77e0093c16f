export * from './capabilities.js';
export * from './sandbox/index.js';
export * from './build/index.js';
export * from './daemon/index.js';
export * from './session/index.js';
export * from './store/index.js';
export * from './logs/index.js';
export * from './transfer/index.js';
