export * from './observer.js';
export * from './coordinator-metrics.js';
export * from './routes.js';
export * from './job-lifecycle.js';
