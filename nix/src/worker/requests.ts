/**
 * Worker protocol requests (spec §7.5): `u64 op` then the op's arguments, with version gates on
 * the negotiated version. Decoding is the server's side: `decodeWorkerRequest` returns
 * undefined at a clean end of input between ops; an unknown op is BAD_WIRE. Uploads are read
 * completely (framed streams up to their terminator, raw NARs by walking them), so the next op
 * starts at the right byte; their sizes are bounded by `maxUploadSize`.
 * Layouts older than the ones Nix ≥ 2.0 clients use (AddToStore < 1.25, AddToStoreNar 1.21–1.22
 * via STDERR_READ) are refused as UNSUPPORTED.
 */
import { NixFormatError } from '../errors.js';
import {
  FramedSource,
  type NarExtentOptions,
  type WireBasicDerivation,
  type WirePathInfo,
  WireReader,
  WireWriter,
  encodeWith,
  protocolMinor,
  protocolVersion,
  readBasicDerivation,
  readFramedBytes,
  readNarBytes,
  readPathInfo,
  typed,
  writeBasicDerivation,
  writePathInfo,
} from '../wire/index.js';
import { WorkerOp, workerOpName } from './constants.js';
import { type WorkerOptions, readWorkerOptions, writeWorkerOptions } from './options.js';

/** Path infos inside AddMultipleToStore always use the full (≥1.16) layout. */
const FULL_PATH_INFO_LAYOUT = protocolVersion(1, 16);

export interface UploadedPath {
  readonly info: WirePathInfo;
  readonly nar: Uint8Array;
}

type PathOp = 'IsValidPath' | 'EnsurePath' | 'AddTempRoot' | 'QueryPathInfo' | 'NarFromPath' | 'QueryDerivationOutputMap';

export type WorkerRequest =
  | { readonly op: PathOp; readonly path: string }
  | { readonly op: 'QueryPathFromHashPart'; readonly hashPart: string }
  | { readonly op: 'SetOptions'; readonly options: WorkerOptions }
  | { readonly op: 'QueryValidPaths'; readonly paths: readonly string[]; readonly substitute: boolean }
  | { readonly op: 'AddToStore'; readonly name: string; readonly camStr: string; readonly references: readonly string[]; readonly repair: boolean; readonly data: Uint8Array }
  | { readonly op: 'AddTextToStore'; readonly name: string; readonly contents: string; readonly references: readonly string[] }
  | { readonly op: 'BuildPaths' | 'BuildPathsWithResults'; readonly derivedPaths: readonly string[]; readonly buildMode: number }
  | { readonly op: 'QueryMissing'; readonly derivedPaths: readonly string[] }
  | { readonly op: 'BuildDerivation'; readonly drvPath: string; readonly derivation: WireBasicDerivation; readonly buildMode: number }
  | { readonly op: 'AddSignatures'; readonly path: string; readonly sigs: readonly string[] }
  | { readonly op: 'AddToStoreNar'; readonly info: WirePathInfo; readonly repair: boolean; readonly dontCheckSigs: boolean; readonly nar: Uint8Array }
  | { readonly op: 'AddMultipleToStore'; readonly repair: boolean; readonly dontCheckSigs: boolean; readonly items: readonly UploadedPath[] }
  /** ≥1.31: the Realisation JSON; older: `id` + `outPath` (a base name). */
  | { readonly op: 'RegisterDrvOutput'; readonly realisation: string }
  | { readonly op: 'RegisterDrvOutput'; readonly id: string; readonly outPath: string }
  | { readonly op: 'QueryRealisation'; readonly id: string }
  /** The derivation's base name (not the full path), and the log. */
  | { readonly op: 'AddBuildLog'; readonly drvBaseName: string; readonly log: Uint8Array }
  | { readonly op: 'AddPermRoot'; readonly path: string; readonly gcRoot: string };

export interface WorkerDecodeOptions {
  readonly nar?: NarExtentOptions;
  /** Largest upload (framed stream or NAR) held in memory (default 4 GiB). */
  readonly maxUploadSize?: number;
}

const DEFAULT_MAX_UPLOAD = 4 * 1024 * 1024 * 1024;

function unsupported(what: string, version: number): NixFormatError {
  return new NixFormatError('UNSUPPORTED', `${what} is not supported at worker protocol 1.${protocolMinor(version)}`, { field: what });
}

export function encodeWorkerRequest(req: WorkerRequest, version: number): Uint8Array[] {
  return encodeWith((w) => writeWorkerRequest(w, req, version));
}

export function writeWorkerRequest(w: WireWriter, req: WorkerRequest, version: number): void {
  const minor = protocolMinor(version);
  w.u64(WorkerOp[req.op]);
  switch (req.op) {
    case 'IsValidPath':
    case 'EnsurePath':
    case 'AddTempRoot':
    case 'QueryPathInfo':
    case 'NarFromPath':
    case 'QueryDerivationOutputMap':
      w.string(req.path);
      return;
    case 'QueryPathFromHashPart':
      w.string(req.hashPart);
      return;
    case 'SetOptions':
      writeWorkerOptions(w, req.options, version);
      return;
    case 'QueryValidPaths':
      w.stringSet(req.paths);
      if (minor >= 27) w.bool(req.substitute);
      return;
    case 'AddToStore':
      if (minor < 25) throw unsupported('AddToStore', version);
      w.string(req.name).string(req.camStr).stringSet(req.references).bool(req.repair).framed(req.data);
      return;
    case 'AddTextToStore':
      w.string(req.name).string(req.contents).stringSet(req.references);
      return;
    case 'BuildPaths':
    case 'BuildPathsWithResults':
      w.strings(req.derivedPaths);
      if (minor >= 15 || req.op === 'BuildPathsWithResults') w.u64(req.buildMode);
      return;
    case 'QueryMissing':
      w.strings(req.derivedPaths);
      return;
    case 'BuildDerivation':
      w.string(req.drvPath);
      writeBasicDerivation(w, req.derivation);
      w.u64(req.buildMode);
      return;
    case 'AddSignatures':
      w.string(req.path).stringSet(req.sigs);
      return;
    case 'AddToStoreNar':
      writePathInfo(w, req.info, FULL_PATH_INFO_LAYOUT);
      w.bool(req.repair).bool(req.dontCheckSigs);
      if (minor >= 23) w.framed(req.nar);
      else if (minor >= 21) throw unsupported('AddToStoreNar via STDERR_READ', version);
      else w.raw(req.nar);
      return;
    case 'AddMultipleToStore': {
      const inner = new WireWriter();
      inner.u64(req.items.length);
      for (const item of req.items) {
        writePathInfo(inner, item.info, FULL_PATH_INFO_LAYOUT);
        inner.raw(item.nar);
      }
      w.bool(req.repair).bool(req.dontCheckSigs).framed(inner.chunks());
      return;
    }
    case 'RegisterDrvOutput':
      if ('realisation' in req) {
        if (minor < 31) throw unsupported('RegisterDrvOutput with a Realisation', version);
        w.string(req.realisation);
      } else {
        if (minor >= 31) throw unsupported('RegisterDrvOutput with id/outPath', version);
        w.string(req.id).string(req.outPath);
      }
      return;
    case 'QueryRealisation':
      w.string(req.id);
      return;
    case 'AddBuildLog':
      w.string(req.drvBaseName).framed(req.log);
      return;
    case 'AddPermRoot':
      w.string(req.path).string(req.gcRoot);
      return;
  }
}

/** Reads the next request, or undefined if the input ends cleanly before an op. */
export async function decodeWorkerRequest(r: WireReader, version: number, options: WorkerDecodeOptions = {}): Promise<WorkerRequest | undefined> {
  if (await r.atEnd()) return undefined;
  return typed(r, 'worker request', () => readWorkerRequest(r, version, options));
}

async function readWorkerRequest(r: WireReader, version: number, options: WorkerDecodeOptions): Promise<WorkerRequest> {
  const minor = protocolMinor(version);
  const maxUpload = options.maxUploadSize ?? DEFAULT_MAX_UPLOAD;
  const at = r.offset;
  const code = await r.readInt('worker op');
  const op = workerOpName(code);
  switch (op) {
    case 'IsValidPath':
    case 'EnsurePath':
    case 'AddTempRoot':
    case 'QueryPathInfo':
    case 'NarFromPath':
    case 'QueryDerivationOutputMap':
      return { op, path: await r.readString('path') };
    case 'QueryPathFromHashPart':
      return { op, hashPart: await r.readString('hashPart') };
    case 'SetOptions':
      return { op, options: await readWorkerOptions(r, version) };
    case 'QueryValidPaths': {
      const paths = await r.readStrings('paths');
      return { op, paths, substitute: minor >= 27 ? await r.readBool('substitute') : false };
    }
    case 'AddToStore': {
      if (minor < 25) throw unsupported('AddToStore', version);
      const name = await r.readString('name');
      const camStr = await r.readString('camStr');
      const references = await r.readStrings('references');
      const repair = await r.readBool('repair');
      return { op, name, camStr, references, repair, data: await readFramedBytes(r, maxUpload, 'AddToStore data') };
    }
    case 'AddTextToStore': {
      const name = await r.readString('name');
      const contents = await r.readString('contents');
      return { op, name, contents, references: await r.readStrings('references') };
    }
    case 'BuildPaths':
    case 'BuildPathsWithResults': {
      const derivedPaths = await r.readStrings('derivedPaths');
      const buildMode = minor >= 15 || op === 'BuildPathsWithResults' ? await r.readInt('buildMode') : 0;
      return { op, derivedPaths, buildMode };
    }
    case 'QueryMissing':
      return { op, derivedPaths: await r.readStrings('derivedPaths') };
    case 'BuildDerivation': {
      const drvPath = await r.readString('drvPath');
      const derivation = await readBasicDerivation(r);
      return { op, drvPath, derivation, buildMode: await r.readInt('buildMode') };
    }
    case 'AddSignatures':
      return { op, path: await r.readString('path'), sigs: await r.readStrings('sigs') };
    case 'AddToStoreNar': {
      const info = await readPathInfo(r, FULL_PATH_INFO_LAYOUT);
      const repair = await r.readBool('repair');
      const dontCheckSigs = await r.readBool('dontCheckSigs');
      let nar: Uint8Array;
      if (minor >= 23) nar = await readFramedBytes(r, maxUpload, 'AddToStoreNar NAR');
      else if (minor >= 21) throw unsupported('AddToStoreNar via STDERR_READ', version);
      else nar = await readNarBytes(r, options.nar);
      return { op, info, repair, dontCheckSigs, nar };
    }
    case 'AddMultipleToStore': {
      const repair = await r.readBool('repair');
      const dontCheckSigs = await r.readBool('dontCheckSigs');
      return { op, repair, dontCheckSigs, items: await readMultipleUploads(r, options) };
    }
    case 'RegisterDrvOutput':
      if (minor >= 31) return { op, realisation: await r.readString('realisation') };
      return { op, id: await r.readString('DrvOutput id'), outPath: await r.readString('outPath') };
    case 'QueryRealisation':
      return { op, id: await r.readString('DrvOutput id') };
    case 'AddBuildLog': {
      const drvBaseName = await r.readString('drvPath');
      return { op, drvBaseName, log: await readFramedBytes(r, maxUpload, 'build log') };
    }
    case 'AddPermRoot':
      return { op, path: await r.readString('path'), gcRoot: await r.readString('gcRoot') };
    case undefined:
      throw new NixFormatError('BAD_WIRE', `unknown worker op ${code}`, { offset: at });
  }
}

/** AddMultipleToStore's framed payload: count, then per path a full path info and the raw NAR. */
async function readMultipleUploads(r: WireReader, options: WorkerDecodeOptions): Promise<UploadedPath[]> {
  const framed = new FramedSource(r);
  const inner = new WireReader(framed, r.limits);
  const count = await inner.readCount('AddMultipleToStore count');
  const items: UploadedPath[] = [];
  for (let i = 0; i < count; i++) {
    const info = await readPathInfo(inner, FULL_PATH_INFO_LAYOUT);
    items.push({ info, nar: await readNarBytes(inner, options.nar) });
  }
  await framed.expectEnd('AddMultipleToStore');
  return items;
}
