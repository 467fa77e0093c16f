export * from './job-state.js';
export * from './routing.js';
export * from './ready-queue.js';
export * from './scheduler-types.js';
export * from './scheduler.js';
export * from './duration-model.js';
export * from './queue-order.js';
export * from './retry-policy.js';
