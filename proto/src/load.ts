/**
 * Loads the farm's .proto files (proto/farm/v1/*.proto) for @grpc/grpc-js.
 */
import { loadSync } from '@grpc/proto-loader';
import { loadPackageDefinition, type GrpcObject } from '@grpc/grpc-js';
import { readdirSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { join } from 'node:path';
import { PROTO_LOADER_OPTIONS } from './options.js';

/** The directory that holds `farm/v1/*.proto` (the include root). */
export const PROTO_ROOT: string = fileURLToPath(new URL('../../', import.meta.url));

export function protoFiles(): string[] {
  const dir = join(PROTO_ROOT, 'farm', 'v1');
  return readdirSync(dir)
    .filter((f) => f.endsWith('.proto'))
    .sort()
    .map((f) => `farm/v1/${f}`);
}

export function loadFarmProtos(): GrpcObject {
  const def = loadSync(protoFiles(), { ...PROTO_LOADER_OPTIONS, includeDirs: [PROTO_ROOT] });
  return loadPackageDefinition(def);
}
