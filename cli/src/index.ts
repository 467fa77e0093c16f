export { createCli } from './app.js';
export { FARM_VERSION } from './version.js';
export * from './eval/index.js';
