export * from './temp-dir.js';
export * from './ports.js';
export * from './nats-server.js';
export * from './farm-process.js';
export * from './vectors.js';
export * from './binfmt.js';
export * from './prometheus-text.js';
export * from './otlp/index.js';
