export * from './core/index.js';
export * from './ports/index.js';
export * from './adapters/index.js';
export * from './service/index.js';
export * from './daemon/index.js';
