/**
 * The one options object shared by the runtime loader and `proto-loader-gen-types`, so the
 * generated types and what the server actually decodes can never disagree (grpc-node's advice).
 */
import type { Options } from '@grpc/proto-loader';

export const PROTO_LOADER_OPTIONS: Options = {
  keepCase: false,
  longs: String,
  enums: String,
  defaults: true,
  oneofs: true,
};
