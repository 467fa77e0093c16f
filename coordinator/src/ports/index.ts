export * from './farm-store.js';
