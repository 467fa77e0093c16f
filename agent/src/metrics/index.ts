export * from './agent-metrics.js';
export * from './instrument.js';
export * from './metrics-server.js';
