export { NAR_MAGIC } from './wire.js';
export * from './limits.js';
export * from './dump-cursor.js';
export { dumpNarSync, hashPath, dumpNarToBuffer, narChunks, NarReadable } from './dump.js';
export { regularFileNar } from './regular-file-nar.js';
export * from './events.js';
export * from './read.js';
export * from './unpack.js';
