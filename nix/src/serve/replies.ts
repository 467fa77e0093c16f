/**
 * Serve protocol replies (spec §6.3). The layout of a reply depends on the request, so the
 * client-side decoder takes the request it answers. There is no in-band error channel: a server
 * that fails just closes the stream, which the decoder reports as WIRE_TRUNCATED.
 */
import { NixFormatError } from '../errors.js';
import {
  type BuildResult,
  type NarExtentOptions,
  type WireReader,
  type WireWriter,
  encodeWith,
  protocolMinor,
  readBuildResult,
  readNarBytes,
  serveBuildResultLayout,
  typed,
  writeBuildResult,
} from '../wire/index.js';
import { type ExportedPath, readExportStream, writeExportStream } from './export-stream.js';
import type { ServeRequest } from './requests.js';

/** One QueryPathInfos entry; narHash (`sha256:<nix32>`), ca and sigs exist from 2.4. */
export interface ServePathInfo {
  readonly path: string;
  readonly deriver: string;
  readonly references: readonly string[];
  readonly downloadSize: number;
  readonly narSize: number;
  readonly narHash: string;
  readonly ca: string;
  readonly sigs: readonly string[];
}

export type ServeReply =
  | { readonly cmd: 'QueryValidPaths'; readonly paths: readonly string[] }
  | { readonly cmd: 'QueryPathInfos'; readonly infos: readonly ServePathInfo[] }
  | { readonly cmd: 'DumpStorePath'; readonly nar: Uint8Array }
  | { readonly cmd: 'ImportPaths'; readonly result: number }
  | { readonly cmd: 'ExportPaths'; readonly paths: readonly ExportedPath[] }
  /** status 0 = success (no message on the wire); else the exit status and message. */
  | { readonly cmd: 'BuildPaths'; readonly status: number; readonly errorMsg: string }
  | { readonly cmd: 'QueryClosure'; readonly paths: readonly string[] }
  | { readonly cmd: 'BuildDerivation'; readonly result: BuildResult }
  | { readonly cmd: 'AddToStoreNar'; readonly result: number };

export function encodeServeReply(reply: ServeReply, version: number): Uint8Array[] {
  return encodeWith((w) => writeServeReply(w, reply, version));
}

export function writeServeReply(w: WireWriter, reply: ServeReply, version: number): void {
  switch (reply.cmd) {
    case 'QueryValidPaths':
    case 'QueryClosure':
      w.stringSet(reply.paths);
      return;
    case 'QueryPathInfos':
      for (const i of reply.infos) {
        w.string(i.path).string(i.deriver).stringSet(i.references).u64(i.downloadSize).u64(i.narSize);
        if (protocolMinor(version) >= 4) w.string(i.narHash).string(i.ca).stringSet(i.sigs);
      }
      w.string('');
      return;
    case 'DumpStorePath':
      w.raw(reply.nar);
      return;
    case 'ImportPaths':
    case 'AddToStoreNar':
      w.u64(reply.result);
      return;
    case 'ExportPaths':
      writeExportStream(w, reply.paths);
      return;
    case 'BuildPaths':
      w.u64(reply.status);
      if (reply.status !== 0) w.string(reply.errorMsg);
      return;
    case 'BuildDerivation':
      writeBuildResult(w, reply.result, serveBuildResultLayout(version));
      return;
  }
}

export async function decodeServeReply(r: WireReader, request: ServeRequest, version: number, nar: NarExtentOptions = {}): Promise<ServeReply> {
  return typed(r, `serve ${request.cmd} reply`, () => readServeReply(r, request, version, nar));
}

async function readServeReply(r: WireReader, request: ServeRequest, version: number, nar: NarExtentOptions): Promise<ServeReply> {
  switch (request.cmd) {
    case 'QueryValidPaths':
    case 'QueryClosure':
      return { cmd: request.cmd, paths: await r.readStrings('paths') };
    case 'QueryPathInfos':
      return { cmd: request.cmd, infos: await readPathInfos(r, version) };
    case 'DumpStorePath':
      return { cmd: request.cmd, nar: await readNarBytes(r, nar) };
    case 'ImportPaths':
    case 'AddToStoreNar':
      return { cmd: request.cmd, result: await readOne(r, request.cmd) };
    case 'ExportPaths':
      return { cmd: request.cmd, paths: await readExportStream(r, nar) };
    case 'BuildPaths': {
      const status = await r.readInt('BuildPaths status');
      return { cmd: request.cmd, status, errorMsg: status === 0 ? '' : await r.readString('BuildPaths error') };
    }
    case 'BuildDerivation':
      return { cmd: request.cmd, result: await readBuildResult(r, serveBuildResultLayout(version)) };
  }
}

async function readOne(r: WireReader, what: string): Promise<number> {
  const at = r.offset;
  const v = await r.readInt(`${what} result`);
  if (v !== 1) throw new NixFormatError('BAD_WIRE', `${what}: expected 1, got ${v}`, { offset: at });
  return v;
}

async function readPathInfos(r: WireReader, version: number): Promise<ServePathInfo[]> {
  const infos: ServePathInfo[] = [];
  for (;;) {
    const path = await r.readString('path');
    if (path === '') return infos;
    const deriver = await r.readString('deriver');
    const references = await r.readStrings('references');
    const downloadSize = await r.readNumber('downloadSize');
    const narSize = await r.readNumber('narSize');
    let narHash = '';
    let ca = '';
    let sigs: string[] = [];
    if (protocolMinor(version) >= 4) {
      narHash = await r.readString('narHash');
      ca = await r.readString('ca');
      sigs = await r.readStrings('sigs');
    }
    infos.push({ path, deriver, references, downloadSize, narSize, narHash, ca, sigs });
  }
}
