/**
 * Encodes and decodes farm messages as protobuf bytes for NATS (gRPC does its own framing).
 * Uses protobufjs on the same .proto files and the same conversion options as the gRPC loader,
 * so a message looks identical whichever transport carried it (camelCase fields, 64-bit
 * integers as decimal strings, enums as names, defaults filled in).
 */
import protobuf from 'protobufjs';
import { join } from 'node:path';
import { PROTO_ROOT, protoFiles } from './load.js';

export class ProtoMessageError extends Error {
  override readonly name = 'ProtoMessageError';
  readonly code = 'BAD_MESSAGE';
}

let root: protobuf.Root | undefined;

function farmRoot(): protobuf.Root {
  if (root === undefined) {
    const r = new protobuf.Root();
    r.resolvePath = (_origin, target) => (target.startsWith('farm/') ? join(PROTO_ROOT, target) : target);
    root = r.loadSync(protoFiles(), { keepCase: false });
    root.resolveAll();
  }
  return root;
}

/** Looked-up types by the name callers use: lookupType walks the namespace tree on every call. */
const types = new Map<string, protobuf.Type>();

function messageType(name: string): protobuf.Type {
  const known = types.get(name);
  if (known !== undefined) return known;
  const fullName = name.includes('.') ? name : `farm.v1.${name}`;
  let t: protobuf.Type;
  try {
    t = farmRoot().lookupType(fullName);
  } catch {
    throw new ProtoMessageError(`unknown message type '${name}'`);
  }
  types.set(name, t);
  return t;
}

const TO_OBJECT: protobuf.IConversionOptions = { longs: String, enums: String, defaults: true, oneofs: true, arrays: true, objects: true };

/** Encodes a plain object (as the gRPC loader would accept it) as `type`. */
export function encodeMessage(type: string, value: Record<string, unknown>): Uint8Array {
  const t = messageType(type);
  const problem = t.verify(loaderFormToVerifiable(t, value) as Record<string, unknown>);
  if (problem !== null) throw new ProtoMessageError(`invalid ${type}: ${problem}`);
  return t.encode(t.fromObject(value)).finish();
}

/** Decodes `bytes` as `type`; malformed input is a ProtoMessageError naming the type. */
export function decodeMessage<T = Record<string, unknown>>(type: string, bytes: Uint8Array): T {
  const t = messageType(type);
  try {
    // Decoding from a plain Uint8Array keeps protobufjs's strict length checks (its Buffer reader
    // clamps over-long strings); bytes fields then become Buffer views, as the gRPC loader gives them.
    const plain = Buffer.isBuffer(bytes) ? new Uint8Array(bytes.buffer, bytes.byteOffset, bytes.byteLength) : bytes;
    return buffersForBytes(t.toObject(t.decode(plain), TO_OBJECT)) as T;
  } catch (e) {
    throw new ProtoMessageError(`malformed ${type} message: ${(e as Error).message}`);
  }
}

const LONG_TYPES = new Set(['int64', 'uint64', 'sint64', 'fixed64', 'sfixed64']);

/**
 * verify() insists on numbers for 64-bit fields and enums, while the loader conventions (and
 * fromObject) use decimal strings and enum names: map those for verification only, walking
 * nested messages.
 */
function loaderFormToVerifiable(t: protobuf.Type, value: unknown): unknown {
  if (value === null || typeof value !== 'object' || Array.isArray(value)) return value;
  const out: Record<string, unknown> = { ...(value as Record<string, unknown>) };
  for (const field of t.fieldsArray) {
    const v = out[field.name];
    if (v === undefined || v === null) continue;
    const convert = (x: unknown): unknown => {
      if (LONG_TYPES.has(field.type) && typeof x === 'string' && /^-?\d+$/.test(x)) return Number(x);
      if (field.resolvedType instanceof protobuf.Enum && typeof x === 'string' && x in field.resolvedType.values) return field.resolvedType.values[x];
      if (field.resolvedType instanceof protobuf.Type) return loaderFormToVerifiable(field.resolvedType, x);
      return x;
    };
    if (field.map && typeof v === 'object') out[field.name] = Object.fromEntries(Object.entries(v as object).map(([k, x]) => [k, convert(x)]));
    else if (field.repeated && Array.isArray(v)) out[field.name] = v.map(convert);
    else out[field.name] = convert(v);
  }
  return out;
}

/** Turns every Uint8Array in a decoded message into a Buffer view of the same memory (no copy). */
function buffersForBytes(value: unknown): unknown {
  if (value instanceof Uint8Array) return Buffer.isBuffer(value) ? value : Buffer.from(value.buffer, value.byteOffset, value.byteLength);
  if (Array.isArray(value)) return value.map(buffersForBytes);
  if (value !== null && typeof value === 'object') {
    const obj = value as Record<string, unknown>;
    for (const k of Object.keys(obj)) obj[k] = buffersForBytes(obj[k]);
  }
  return value;
}
