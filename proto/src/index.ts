export { PROTO_LOADER_OPTIONS } from './options.js';
export { PROTO_ROOT, protoFiles, loadFarmProtos } from './load.js';
export { encodeMessage, decodeMessage, ProtoMessageError } from './codec.js';
export { SUBJECTS, STREAMS, resultMessageId } from './subjects.js';
