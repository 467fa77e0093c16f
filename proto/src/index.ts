export { PROTO_LOADER_OPTIONS } from './options.js';
export { PROTO_ROOT, protoFiles, loadFarmProtos } from './load.js';
export { encodeMessage, decodeMessage, ProtoMessageError } from './codec.js';
export { SUBJECTS, STREAMS, resultMessageId } from './subjects.js';
export { INLINE_NAR_MAX, INLINE_NARS_BUDGET, INLINE_NARS_REPLY_BUDGET } from './inline-nars.js';
export { coordinatorServiceDefinition, createCoordinatorClient, GRPC_CHANNEL_OPTIONS, Metadata } from './grpc.js';
export type { CoordinatorClient, CoordinatorDefinition, CoordinatorHandlers } from './grpc.js';
export type * from './messages.js';
