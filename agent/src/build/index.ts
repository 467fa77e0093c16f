export * from './types.js';
export { buildDerivation } from './build-derivation.js';
export { canonicalisePathMetaData } from './canonicalise.js';
export { emulatedCommand, QEMU_DIR } from './emulated-builder.js';
