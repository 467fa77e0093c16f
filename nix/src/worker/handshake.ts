/**
 * Worker handshake (spec §7.2, §7.7), in wire order:
 *   client: magic 1                          → encode/decodeWorkerClientMagic
 *   server: magic 2, serverVersion           → encode/decodeWorkerServerHello
 *   client: clientVersion                    → encode/decodeWorkerClientVersion
 *   [min ≥ 1.38: client feature list, then server feature list → encode/decodeWorkerFeatures]
 *   client: [≥1.14 cpu affinity flag (+ value)], [≥1.11 reserveSpace] → …ClientSettings
 *   server: [≥1.33 nixVersion], [≥1.35 trusted] → …ServerInfo, then stderr messages … LAST.
 * Every gate uses the negotiated version min(client, server).
 */
import { NixFormatError } from '../errors.js';
import { type WireReader, type WireWriter, encodeWith, protocolMajor, protocolMinor } from '../wire/index.js';
import { MIN_WORKER_CLIENT_VERSION, WORKER_MAGIC_1, WORKER_MAGIC_2 } from './constants.js';

export interface WorkerClientSettings {
  /** CPU to pin the daemon's worker to (obsolete; Nix sends none). */
  readonly cpuAffinity?: number | undefined;
  readonly reserveSpace: boolean;
}

export interface WorkerServerInfo {
  /** "2.8.0"; on the wire from 1.33. */
  readonly nixVersion: string;
  /** 0 unknown, 1 trusted, 2 not trusted; on the wire from 1.35. */
  readonly trusted: number;
}

async function readMagic(r: WireReader, expected: number, what: string): Promise<void> {
  const at = r.offset;
  const magic = await r.readU64(`${what} magic`);
  if (magic !== BigInt(expected)) {
    throw new NixFormatError('BAD_WIRE', `${what}: bad magic 0x${magic.toString(16)}, expected 0x${expected.toString(16)}`, { offset: at });
  }
}

export function encodeWorkerClientMagic(): Uint8Array[] {
  return encodeWith((w) => w.u64(WORKER_MAGIC_1));
}

export async function decodeWorkerClientMagic(r: WireReader): Promise<void> {
  await readMagic(r, WORKER_MAGIC_1, 'worker client hello');
}

export function encodeWorkerServerHello(serverVersion: number): Uint8Array[] {
  return encodeWith((w) => w.u64(WORKER_MAGIC_2).u64(serverVersion));
}

/** Returns the server's version; the client rejects a major ≠ 1 or minor < 10. */
export async function decodeWorkerServerHello(r: WireReader): Promise<number> {
  await readMagic(r, WORKER_MAGIC_2, 'worker server hello');
  const at = r.offset;
  const version = await r.readInt('server version');
  if (protocolMajor(version) !== 1 || protocolMinor(version) < 10) {
    throw new NixFormatError('UNSUPPORTED', `unsupported worker protocol server version 0x${version.toString(16)}`, { offset: at });
  }
  return version;
}

export function encodeWorkerClientVersion(clientVersion: number): Uint8Array[] {
  return encodeWith((w) => w.u64(clientVersion));
}

/** The server rejects clients older than 1.10 and of another major. */
export async function decodeWorkerClientVersion(r: WireReader): Promise<number> {
  const at = r.offset;
  const version = await r.readInt('client version');
  if (protocolMajor(version) !== 1 || version < MIN_WORKER_CLIENT_VERSION) {
    throw new NixFormatError('UNSUPPORTED', `unsupported worker protocol client version 0x${version.toString(16)}`, { offset: at });
  }
  return version;
}

/** Feature lists (≥ 1.38 only; both sides send one, the session uses the intersection). */
export function encodeWorkerFeatures(features: Iterable<string>): Uint8Array[] {
  return encodeWith((w) => w.stringSet(features));
}

export async function decodeWorkerFeatures(r: WireReader): Promise<string[]> {
  return r.readStrings('features');
}

export function writeWorkerClientSettings(w: WireWriter, s: WorkerClientSettings, version: number): void {
  const minor = protocolMinor(version);
  if (minor >= 14) {
    if (s.cpuAffinity === undefined) w.u64(0);
    else w.u64(1).u64(s.cpuAffinity);
  }
  if (minor >= 11) w.bool(s.reserveSpace);
}

export function encodeWorkerClientSettings(s: WorkerClientSettings, version: number): Uint8Array[] {
  return encodeWith((w) => writeWorkerClientSettings(w, s, version));
}

export async function decodeWorkerClientSettings(r: WireReader, version: number): Promise<WorkerClientSettings> {
  const minor = protocolMinor(version);
  let cpuAffinity: number | undefined;
  if (minor >= 14 && (await r.readBool('cpu affinity flag'))) cpuAffinity = await r.readInt('cpu affinity');
  const reserveSpace = minor >= 11 ? await r.readBool('reserveSpace') : false;
  return cpuAffinity === undefined ? { reserveSpace } : { cpuAffinity, reserveSpace };
}

export function encodeWorkerServerInfo(info: WorkerServerInfo, version: number): Uint8Array[] {
  return encodeWith((w) => {
    if (protocolMinor(version) >= 33) w.string(info.nixVersion);
    if (protocolMinor(version) >= 35) w.u64(info.trusted);
  });
}

export async function decodeWorkerServerInfo(r: WireReader, version: number): Promise<WorkerServerInfo> {
  const nixVersion = protocolMinor(version) >= 33 ? await r.readString('nixVersion', 1024) : '';
  let trusted = 0;
  if (protocolMinor(version) >= 35) {
    const at = r.offset;
    trusted = await r.readInt('trusted');
    if (trusted > 2) throw new NixFormatError('BAD_WIRE', `trusted must be 0, 1 or 2, got ${trusted}`, { offset: at });
  }
  return { nixVersion, trusted };
}
