export * from './parse.js';
export * from './select.js';
export * from './report.js';
