export { compileCoordinatorConfig, COORDINATOR_CONFIG_DEFAULTS, type CoordinatorConfig } from './config.js';
export { startCoordinator, type RunningCoordinator, type StartCoordinatorDeps } from './start-coordinator.js';
