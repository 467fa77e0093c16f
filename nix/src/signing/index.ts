export * from './keys.js';
export * from './signature.js';
export * from './sign.js';
