export * from './byte-source.js';
