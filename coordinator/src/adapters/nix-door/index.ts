export * from './session-api.js';
export * from './door-command.js';
