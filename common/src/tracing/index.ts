export * from './attributes.js';
export * from './tracer.js';
export * from './carriers.js';
