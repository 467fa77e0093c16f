export * from './scanner.js';
export * from './scan-nar.js';
