export * from './coordinator-state.js';
export * from './farm-service.js';
export { eventToProto } from './views.js';
