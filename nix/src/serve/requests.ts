/**
 * Serve protocol requests (spec §6.3): `u64 cmd` then the command's arguments. Decoding is what a
 * server does; `decodeServeRequest` returns undefined at a clean end of input (the client closed
 * stdin between commands), and an unknown command is a BAD_WIRE error (Nix's server exits).
 * AddToStoreNar carries exactly narSize raw NAR bytes; a declared narSize above `maxNarSize` is
 * refused before reading.
 */
import { NixFormatError } from '../errors.js';
import {
  type NarExtentOptions,
  type WireBasicDerivation,
  type WirePathInfo,
  type WireReader,
  type WireWriter,
  concatBytes,
  encodeWith,
  readBasicDerivation,
  typed,
  writeBasicDerivation,
} from '../wire/index.js';
import { type ServeBuildSettings, readServeBuildSettings, writeServeBuildSettings } from './build-settings.js';
import { ServeCommand, serveCommandName } from './constants.js';
import { type ExportedPath, readExportStream, writeExportStream } from './export-stream.js';

export type ServeRequest =
  | { readonly cmd: 'QueryValidPaths'; readonly lock: boolean; readonly substitute: boolean; readonly paths: readonly string[] }
  | { readonly cmd: 'QueryPathInfos'; readonly paths: readonly string[] }
  | { readonly cmd: 'DumpStorePath'; readonly path: string }
  | { readonly cmd: 'ImportPaths'; readonly paths: readonly ExportedPath[] }
  | { readonly cmd: 'ExportPaths'; readonly sign: boolean; readonly paths: readonly string[] }
  | { readonly cmd: 'BuildPaths'; readonly paths: readonly string[]; readonly settings: ServeBuildSettings }
  | { readonly cmd: 'QueryClosure'; readonly includeOutputs: boolean; readonly paths: readonly string[] }
  | { readonly cmd: 'BuildDerivation'; readonly drvPath: string; readonly derivation: WireBasicDerivation; readonly settings: ServeBuildSettings }
  | { readonly cmd: 'AddToStoreNar'; readonly info: WirePathInfo; readonly nar: Uint8Array };

export interface ServeDecodeOptions {
  readonly nar?: NarExtentOptions;
  /** Largest AddToStoreNar upload accepted (default 4 GiB). */
  readonly maxNarSize?: number;
}

export function encodeServeRequest(req: ServeRequest, version: number): Uint8Array[] {
  return encodeWith((w) => writeServeRequest(w, req, version));
}

export function writeServeRequest(w: WireWriter, req: ServeRequest, version: number): void {
  w.u64(ServeCommand[req.cmd]);
  switch (req.cmd) {
    case 'QueryValidPaths':
      w.bool(req.lock).bool(req.substitute).stringSet(req.paths);
      return;
    case 'QueryPathInfos':
      w.stringSet(req.paths);
      return;
    case 'DumpStorePath':
      w.string(req.path);
      return;
    case 'ImportPaths':
      writeExportStream(w, req.paths);
      return;
    case 'ExportPaths':
      w.bool(req.sign).stringSet(req.paths);
      return;
    case 'BuildPaths':
      w.strings(req.paths);
      writeServeBuildSettings(w, req.settings, version);
      return;
    case 'QueryClosure':
      w.bool(req.includeOutputs).stringSet(req.paths);
      return;
    case 'BuildDerivation':
      w.string(req.drvPath);
      writeBasicDerivation(w, req.derivation);
      writeServeBuildSettings(w, req.settings, version);
      return;
    case 'AddToStoreNar': {
      const i = req.info;
      if (req.nar.length !== i.narSize) throw new NixFormatError('BAD_WIRE', `AddToStoreNar: NAR is ${req.nar.length} bytes but narSize is ${i.narSize}`, { field: 'narSize' });
      w.string(i.path).string(i.deriver).string(i.narHash).stringSet(i.references).u64(i.registrationTime).u64(i.narSize);
      w.bool(i.ultimate).stringSet(i.sigs).string(i.ca).raw(req.nar);
      return;
    }
  }
}

/** Reads the next request, or undefined if the input ends cleanly before a command. */
export async function decodeServeRequest(r: WireReader, version: number, options: ServeDecodeOptions = {}): Promise<ServeRequest | undefined> {
  if (await r.atEnd()) return undefined;
  return typed(r, 'serve request', () => readServeRequest(r, version, options));
}

async function readServeRequest(r: WireReader, version: number, options: ServeDecodeOptions): Promise<ServeRequest> {
  const at = r.offset;
  const code = await r.readInt('serve command');
  const cmd = serveCommandName(code);
  switch (cmd) {
    case 'QueryValidPaths':
      return { cmd, lock: await r.readBool('lock'), substitute: await r.readBool('substitute'), paths: await r.readStrings('paths') };
    case 'QueryPathInfos':
      return { cmd, paths: await r.readStrings('paths') };
    case 'DumpStorePath':
      return { cmd, path: await r.readString('path') };
    case 'ImportPaths':
      return { cmd, paths: await readExportStream(r, options.nar) };
    case 'ExportPaths':
      return { cmd, sign: await r.readBool('sign'), paths: await r.readStrings('paths') };
    case 'BuildPaths':
      return { cmd, paths: await r.readStrings('paths'), settings: await readServeBuildSettings(r, version) };
    case 'QueryClosure':
      return { cmd, includeOutputs: await r.readBool('includeOutputs'), paths: await r.readStrings('paths') };
    case 'BuildDerivation': {
      const drvPath = await r.readString('drvPath');
      const derivation = await readBasicDerivation(r);
      return { cmd, drvPath, derivation, settings: await readServeBuildSettings(r, version) };
    }
    case 'AddToStoreNar':
      return readAddToStoreNar(r, options);
    case undefined:
      throw new NixFormatError('BAD_WIRE', `unknown serve command ${code}`, { offset: at });
  }
}

async function readAddToStoreNar(r: WireReader, options: ServeDecodeOptions): Promise<ServeRequest> {
  const path = await r.readString('path');
  const deriver = await r.readString('deriver');
  const narHash = await r.readString('narHash');
  const references = await r.readStrings('references');
  const registrationTime = await r.readNumber('registrationTime');
  const sizeAt = r.offset;
  const narSize = await r.readNumber('narSize');
  const max = options.maxNarSize ?? 4 * 1024 * 1024 * 1024;
  if (narSize === 0) throw new NixFormatError('BAD_WIRE', 'AddToStoreNar: narSize must be > 0', { offset: sizeAt });
  if (narSize > max) throw new NixFormatError('BAD_WIRE', `AddToStoreNar: narSize ${narSize} exceeds the limit of ${max}`, { offset: sizeAt });
  const ultimate = await r.readBool('ultimate');
  const sigs = await r.readStrings('sigs');
  const ca = await r.readString('ca');
  const parts: Uint8Array[] = [];
  for await (const chunk of r.readRawChunks(narSize)) parts.push(chunk.slice());
  const info: WirePathInfo = { path, deriver, narHash, references, registrationTime, narSize, ultimate, sigs, ca };
  return { cmd: 'AddToStoreNar', info, nar: concatBytes(parts, narSize) };
}
