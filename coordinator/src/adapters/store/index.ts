export * from './lmdb-farm-store.js';
export { storeLayout, narFileName, type StoreLayout } from './layout.js';
