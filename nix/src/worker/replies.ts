/**
 * Worker protocol replies (spec §7.5): the bytes after STDERR_LAST, whose layout depends on the
 * request (so the client-side decoder takes it). `decodeWorkerResponse` reads a whole response:
 * the stderr phase and, unless it ended in STDERR_ERROR, the reply.
 */
import { NixFormatError } from '../errors.js';
import {
  type BuildResult,
  type NarExtentOptions,
  type WirePathInfo,
  type WirePathInfoFields,
  type WireReader,
  type WireWriter,
  encodeWith,
  protocolMinor,
  readBuildResult,
  readNarBytes,
  readPathInfo,
  readPathInfoFields,
  typed,
  workerBuildResultLayout,
  writeBuildResult,
  writePathInfo,
  writePathInfoFields,
} from '../wire/index.js';
import type { WorkerRequest } from './requests.js';
import { type StderrMessage, type WorkerError, readStderrPhase, writeStderr } from './stderr.js';

type OneOp = 'BuildPaths' | 'EnsurePath' | 'AddTempRoot' | 'AddSignatures' | 'AddBuildLog';
type EmptyOp = 'SetOptions' | 'AddToStoreNar' | 'AddMultipleToStore' | 'RegisterDrvOutput';

export type WorkerReply =
  | { readonly op: 'IsValidPath'; readonly valid: boolean }
  /** Ops answered with `u64 1`. */
  | { readonly op: OneOp; readonly result: number }
  | { readonly op: EmptyOp }
  | { readonly op: 'AddToStore'; readonly info: WirePathInfo }
  | { readonly op: 'AddTextToStore'; readonly path: string }
  /** "" when no path has that hash part. */
  | { readonly op: 'QueryPathFromHashPart'; readonly path: string }
  | { readonly op: 'AddPermRoot'; readonly gcRoot: string }
  /** `info` undefined = invalid path (≥1.17). */
  | { readonly op: 'QueryPathInfo'; readonly info: WirePathInfoFields | undefined }
  | { readonly op: 'QueryValidPaths'; readonly paths: readonly string[] }
  | { readonly op: 'BuildDerivation'; readonly result: BuildResult }
  | { readonly op: 'NarFromPath'; readonly nar: Uint8Array }
  | {
      readonly op: 'QueryMissing';
      readonly willBuild: readonly string[];
      readonly willSubstitute: readonly string[];
      readonly unknown: readonly string[];
      readonly downloadSize: number;
      readonly narSize: number;
    }
  /** Output name → path ("" when not statically known), in wire order. */
  | { readonly op: 'QueryDerivationOutputMap'; readonly outputs: ReadonlyArray<readonly [string, string]> }
  /** ≥1.31 Realisation JSON texts, older: output paths. */
  | { readonly op: 'QueryRealisation'; readonly values: readonly string[] }
  | { readonly op: 'BuildPathsWithResults'; readonly results: ReadonlyArray<{ readonly path: string; readonly result: BuildResult }> };

export function encodeWorkerReply(reply: WorkerReply, version: number): Uint8Array[] {
  return encodeWith((w) => writeWorkerReply(w, reply, version));
}

export function writeWorkerReply(w: WireWriter, reply: WorkerReply, version: number): void {
  switch (reply.op) {
    case 'IsValidPath':
      w.bool(reply.valid);
      return;
    case 'BuildPaths':
    case 'EnsurePath':
    case 'AddTempRoot':
    case 'AddSignatures':
    case 'AddBuildLog':
      w.u64(reply.result);
      return;
    case 'SetOptions':
    case 'AddToStoreNar':
    case 'AddMultipleToStore':
    case 'RegisterDrvOutput':
      return;
    case 'AddToStore':
      writePathInfo(w, reply.info, version);
      return;
    case 'AddTextToStore':
    case 'QueryPathFromHashPart':
      w.string(reply.path);
      return;
    case 'AddPermRoot':
      w.string(reply.gcRoot);
      return;
    case 'QueryPathInfo':
      if (protocolMinor(version) >= 17) w.bool(reply.info !== undefined);
      if (reply.info !== undefined) writePathInfoFields(w, reply.info, version);
      else if (protocolMinor(version) < 17) throw new NixFormatError('BAD_WIRE', 'QueryPathInfo < 1.17 cannot answer "invalid"; send STDERR_ERROR', { field: 'info' });
      return;
    case 'QueryValidPaths':
      w.stringSet(reply.paths);
      return;
    case 'BuildDerivation':
      writeBuildResult(w, reply.result, workerBuildResultLayout(version));
      return;
    case 'NarFromPath':
      w.raw(reply.nar);
      return;
    case 'QueryMissing':
      w.stringSet(reply.willBuild).stringSet(reply.willSubstitute).stringSet(reply.unknown).u64(reply.downloadSize).u64(reply.narSize);
      return;
    case 'QueryDerivationOutputMap':
      w.map(
        reply.outputs,
        (x, k) => x.string(k),
        (x, v) => x.string(v),
      );
      return;
    case 'QueryRealisation':
      w.stringSet(reply.values);
      return;
    case 'BuildPathsWithResults':
      w.u64(reply.results.length);
      for (const { path, result } of reply.results) {
        w.string(path);
        writeBuildResult(w, result, workerBuildResultLayout(version));
      }
      return;
  }
}

export async function decodeWorkerReply(r: WireReader, request: WorkerRequest, version: number, nar: NarExtentOptions = {}): Promise<WorkerReply> {
  return typed(r, `worker ${request.op} reply`, () => readWorkerReply(r, request, version, nar));
}

async function readWorkerReply(r: WireReader, request: WorkerRequest, version: number, nar: NarExtentOptions): Promise<WorkerReply> {
  const op = request.op;
  switch (op) {
    case 'IsValidPath':
      return { op, valid: await r.readBool('valid') };
    case 'BuildPaths':
    case 'EnsurePath':
    case 'AddTempRoot':
    case 'AddSignatures':
    case 'AddBuildLog':
      return { op, result: await r.readInt(`${op} result`) };
    case 'SetOptions':
    case 'AddToStoreNar':
    case 'AddMultipleToStore':
    case 'RegisterDrvOutput':
      return { op };
    case 'AddToStore':
      return { op, info: await readPathInfo(r, version) };
    case 'AddTextToStore':
    case 'QueryPathFromHashPart':
      return { op, path: await r.readString('path') };
    case 'AddPermRoot':
      return { op, gcRoot: await r.readString('gcRoot') };
    case 'QueryPathInfo': {
      const valid = protocolMinor(version) >= 17 ? await r.readBool('valid') : true;
      return { op, info: valid ? await readPathInfoFields(r, version) : undefined };
    }
    case 'QueryValidPaths':
      return { op, paths: await r.readStrings('paths') };
    case 'BuildDerivation':
      return { op, result: await readBuildResult(r, workerBuildResultLayout(version)) };
    case 'NarFromPath':
      return { op, nar: await readNarBytes(r, nar) };
    case 'QueryMissing': {
      const willBuild = await r.readStrings('willBuild');
      const willSubstitute = await r.readStrings('willSubstitute');
      const unknown = await r.readStrings('unknown');
      const downloadSize = await r.readNumber('downloadSize');
      return { op, willBuild, willSubstitute, unknown, downloadSize, narSize: await r.readNumber('narSize') };
    }
    case 'QueryDerivationOutputMap':
      return { op, outputs: await r.readStringPairs('outputs') };
    case 'QueryRealisation':
      return { op, values: await r.readStrings('realisations') };
    case 'BuildPathsWithResults': {
      const n = await r.readCount('results');
      const results: Array<{ path: string; result: BuildResult }> = [];
      for (let i = 0; i < n; i++) {
        const path = await r.readString('derivedPath');
        results.push({ path, result: await readBuildResult(r, workerBuildResultLayout(version)) });
      }
      return { op, results };
    }
  }
}

/** A complete response: stderr messages ending in LAST + reply, or ending in ERROR. */
export interface WorkerResponse {
  /** Every stderr message including the final STDERR_LAST / STDERR_ERROR. */
  readonly stderr: readonly StderrMessage[];
  readonly error?: WorkerError | undefined;
  readonly reply?: WorkerReply | undefined;
}

export async function decodeWorkerResponse(r: WireReader, request: WorkerRequest, version: number, nar: NarExtentOptions = {}): Promise<WorkerResponse> {
  const phase = await readStderrPhase(r, version);
  if (phase.error !== undefined) return { stderr: phase.messages, error: phase.error };
  return { stderr: phase.messages, reply: await decodeWorkerReply(r, request, version, nar) };
}

export function encodeWorkerResponse(response: WorkerResponse, version: number): Uint8Array[] {
  return encodeWith((w) => {
    for (const m of response.stderr) writeStderr(w, m, version);
    if (response.reply !== undefined) writeWorkerReply(w, response.reply, version);
  });
}
