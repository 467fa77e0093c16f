export * from './coordinator-state.js';
export * from './farm-service.js';
export { eventToProto } from './views.js';
export * from './door-builds.js';
export * from './door-store.js';
