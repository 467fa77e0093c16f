export * from './open-state.js';
export { LmdbCoordinatorState, STATE_DATABASES } from './lmdb-coordinator-state.js';
