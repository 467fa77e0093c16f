export * from './farm-store.js';
export * from './agent-api.js';
export * from './log-source.js';
