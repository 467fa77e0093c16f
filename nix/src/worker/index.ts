export * from './constants.js';
export * from './handshake.js';
export * from './stderr.js';
export * from './options.js';
export * from './requests.js';
export * from './replies.js';
