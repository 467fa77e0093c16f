export * from './server.js';
export { toServiceError } from './errors.js';
