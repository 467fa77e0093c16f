/**
 * Serve handshake (spec §6.2): client sends magic 1 + its version, server answers magic 2 + its
 * version; both then gate on min(client, server). A wrong magic is BAD_WIRE; a server whose
 * major is not 2 is UNSUPPORTED.
 */
import { NixFormatError } from '../errors.js';
import { type WireReader, encodeWith, protocolMajor } from '../wire/index.js';
import { SERVE_MAGIC_1, SERVE_MAGIC_2 } from './constants.js';

export interface ServeClientHello {
  readonly clientVersion: number;
}
export interface ServeServerHello {
  readonly serverVersion: number;
}

export function encodeServeClientHello(h: ServeClientHello): Uint8Array[] {
  return encodeWith((w) => w.u64(SERVE_MAGIC_1).u64(h.clientVersion));
}

export function encodeServeServerHello(h: ServeServerHello): Uint8Array[] {
  return encodeWith((w) => w.u64(SERVE_MAGIC_2).u64(h.serverVersion));
}

async function readMagic(r: WireReader, expected: number, what: string): Promise<void> {
  const at = r.offset;
  const magic = await r.readU64(`${what} magic`);
  if (magic !== BigInt(expected)) {
    throw new NixFormatError('BAD_WIRE', `${what}: bad magic 0x${magic.toString(16)}, expected 0x${expected.toString(16)}`, { offset: at });
  }
}

async function readVersion(r: WireReader, what: string): Promise<number> {
  const at = r.offset;
  const version = await r.readInt(`${what} version`);
  if (protocolMajor(version) !== 2) throw new NixFormatError('UNSUPPORTED', `${what}: unsupported serve protocol version 0x${version.toString(16)}`, { offset: at });
  return version;
}

export async function decodeServeClientHello(r: WireReader): Promise<ServeClientHello> {
  await readMagic(r, SERVE_MAGIC_1, 'serve client hello');
  return { clientVersion: await readVersion(r, 'serve client') };
}

export async function decodeServeServerHello(r: WireReader): Promise<ServeServerHello> {
  await readMagic(r, SERVE_MAGIC_2, 'serve server hello');
  return { serverVersion: await readVersion(r, 'serve server') };
}
