export * from './session-api.js';
export * from './door-command.js';
export * from './door-context.js';
export * from './nix-door.js';
export * from './socket-door.js';
