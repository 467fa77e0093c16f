export * from './env.js';
export * from './schema.js';
