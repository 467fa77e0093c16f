export * from './narinfo.js';
export * from './cache-info.js';
export * from './fingerprint.js';
