export * from './types.js';
export { buildDerivation } from './build-derivation.js';
export { canonicalisePathMetaData } from './canonicalise.js';
