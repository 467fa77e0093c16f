export * from './coordinator-state.js';
export * from './farm-service.js';
