export * from './constants.js';
export * from './handshake.js';
export * from './build-settings.js';
export * from './export-stream.js';
export * from './requests.js';
export * from './replies.js';
