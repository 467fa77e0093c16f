/**
 * One `nix-daemon --stdio` session (worker protocol, spec §7) against the farm. We speak 1.34
 * (Nix 2.8 … 2.14) and every later client negotiates down to it (spec §7.7: advertising a version
 * whose layouts we do not implement would corrupt the stream). After each request: log messages
 * (the build log as STDERR_NEXT lines, which Nix prints as they come), then STDERR_LAST and the
 * reply — or STDERR_ERROR, after which the session goes on (the request was read whole). A
 * request that cannot be decoded ends the session after its STDERR_ERROR: the stream position is
 * lost.
 *
 * Every principal the door admits is trusted like a user of `nix-daemon --stdio` (the key is the
 * trust); ops a build farm does not serve (signatures, realisations, GC roots, build logs) are
 * refused with STDERR_ERROR naming the op.
 */
import { FarmError } from '@farm/common';
import {
  decodeWorkerClientMagic,
  decodeWorkerClientSettings,
  decodeWorkerClientVersion,
  decodeWorkerRequest,
  encodeStderr,
  encodeWorkerReply,
  encodeWorkerServerHello,
  encodeWorkerServerInfo,
  negotiateVersion,
  parseDerivedPath,
  pathInfoFromWire,
  pathInfoToWire,
  StreamSource,
  WireReader,
  workerDerivedPathSyntax,
  workerError,
  WORKER_PROTOCOL_VERSION,
  type WorkerReply,
  type WorkerRequest,
} from '@farm/nix';
import { addContentAddressed, importUploadedPath, importUploadedPaths, queryMissing } from '../../service/door-store.js';
import { pipeTo, shownPathInfo, storePathArg, storePathArgs, writeAll, type DoorContext } from './door-context.js';
import type { DoorPrincipal, NixSessionStreams } from './session-api.js';

interface SessionSettings {
  maxSilentMs: number;
}

export async function runWorkerSession(ctx: DoorContext, principal: DoorPrincipal, io: NixSessionStreams): Promise<void> {
  const reader = new WireReader(new StreamSource(io.input));
  await decodeWorkerClientMagic(reader);
  await writeAll(io.output, encodeWorkerServerHello(WORKER_PROTOCOL_VERSION));
  const version = negotiateVersion(await decodeWorkerClientVersion(reader), WORKER_PROTOCOL_VERSION);
  await decodeWorkerClientSettings(reader, version);
  await writeAll(io.output, [...encodeWorkerServerInfo({ nixVersion: ctx.version, trusted: 1 }, version), ...encodeStderr({ type: 'last' }, version)]);
  const settings: SessionSettings = { maxSilentMs: 0 };
  for (;;) {
    let req: WorkerRequest | undefined;
    try {
      req = await decodeWorkerRequest(reader, version, { maxUploadSize: ctx.maxUploadBytes, nar: { maxNarSize: ctx.maxUploadBytes } });
    } catch (e) {
      await sendError(io, version, e);
      throw e;
    }
    if (req === undefined) return;
    let reply: WorkerReply | undefined;
    try {
      if (req.op === 'NarFromPath') {
        const path = storePathArg(req.path, 'NarFromPath');
        if (!(await ctx.store.isValidPath(path))) throw new FarmError('NOT_FOUND', `path '${path}' is not valid`);
        const nar = await ctx.store.narStream(path);
        await writeAll(io.output, encodeStderr({ type: 'last' }, version));
        await pipeTo(io.output, nar);
        continue;
      }
      reply = await answer(ctx, req, version, principal, io, settings);
    } catch (e) {
      if (io.signal.aborted) throw e;
      ctx.logger.debug({ err: e, op: req.op, principal: principal.name }, 'door request failed');
      await sendError(io, version, e);
      continue;
    }
    await writeAll(io.output, [...encodeStderr({ type: 'last' }, version), ...encodeWorkerReply(reply, version)]);
  }
}

async function sendError(io: NixSessionStreams, version: number, e: unknown): Promise<void> {
  const message = e instanceof Error ? e.message : String(e);
  await writeAll(io.output, encodeStderr({ type: 'error', error: workerError(message) }, version)).catch(() => undefined);
}

function unsupported(op: string, why: string): FarmError {
  return new FarmError('FAILED_PRECONDITION', `the farm does not support ${op}: ${why}`);
}

async function answer(ctx: DoorContext, req: WorkerRequest, version: number, principal: DoorPrincipal, io: NixSessionStreams, settings: SessionSettings): Promise<WorkerReply> {
  const { store } = ctx;
  const logLines = (text: string) => {
    for (const line of text.split(/(?<=\n)/)) if (line !== '') io.output.write(Buffer.concat(encodeStderr({ type: 'next', text: line }, version)));
  };
  const buildOptions = { client: principal, maxSilentMs: settings.maxSilentMs, onLog: logLines, signal: io.signal };
  switch (req.op) {
    case 'SetOptions':
      settings.maxSilentMs = req.options.maxSilentTime * 1000;
      return { op: req.op };
    case 'IsValidPath':
      return { op: req.op, valid: await store.isValidPath(storePathArg(req.path, req.op)) };
    case 'QueryValidPaths': {
      const valid = await store.queryValidPaths(storePathArgs(req.paths, req.op));
      return { op: req.op, paths: req.paths.filter((p) => valid.has(p)) };
    }
    case 'QueryPathInfo': {
      const info = await store.getPathInfo(storePathArg(req.path, req.op));
      return { op: req.op, info: info === undefined ? undefined : pathInfoToWire(shownPathInfo(ctx, info), 'worker') };
    }
    case 'QueryPathFromHashPart': {
      if (!/^[0-9a-df-np-sv-z]{32}$/.test(req.hashPart)) throw new FarmError('INVALID_ARGUMENT', `'${req.hashPart.slice(0, 64)}' is not a store path hash part`);
      return { op: req.op, path: (await store.queryPathFromHashPart(req.hashPart)) ?? '' };
    }
    case 'EnsurePath':
    case 'AddTempRoot': {
      const path = storePathArg(req.path, req.op);
      // The farm store never collects garbage under a session, so a temp root is a no-op.
      if (req.op === 'EnsurePath' && !(await store.isValidPath(path))) throw new FarmError('NOT_FOUND', `path '${path}' is not valid in the farm store, and the farm does not substitute`);
      return { op: req.op, result: 1 };
    }
    case 'AddToStoreNar':
      storePathArg(req.info.path, req.op);
      await importUploadedPath(store, pathInfoFromWire({ ...req.info, ultimate: false }), req.nar);
      return { op: req.op };
    case 'AddMultipleToStore':
      await importUploadedPaths(
        store,
        req.items.map((i) => ({ info: pathInfoFromWire({ ...i.info, path: storePathArg(i.info.path, req.op), ultimate: false }), nar: i.nar })),
      );
      return { op: req.op };
    case 'AddToStore': {
      const info = await addContentAddressed(store, req.name, req.camStr, storePathArgs(req.references, req.op), req.data);
      return { op: req.op, info: pathInfoToWire(info, 'worker') };
    }
    case 'AddTextToStore': {
      const info = await addContentAddressed(store, req.name, 'text:sha256', storePathArgs(req.references, req.op), new TextEncoder().encode(req.contents));
      return { op: req.op, path: info.path };
    }
    case 'BuildDerivation': {
      if (req.buildMode !== 0) throw unsupported(`build mode ${req.buildMode}`, 'only normal builds (no repair or check)');
      const result = await ctx.builds.buildDerivation(req.drvPath, req.derivation, buildOptions);
      return { op: req.op, result };
    }
    case 'BuildPaths':
    case 'BuildPathsWithResults': {
      if (req.buildMode !== 0) throw unsupported(`build mode ${req.buildMode}`, 'only normal builds (no repair or check)');
      const syntax = workerDerivedPathSyntax(version);
      const paths = req.derivedPaths.map((s) => {
        const d = parseDerivedPath(s, syntax);
        return d.type === 'built' ? { path: s, drvPath: storePathArg(d.drvPath, req.op), outputs: d.outputs } : { path: storePathArg(d.path, req.op) };
      });
      const outcomes = await ctx.builds.buildPaths(paths, buildOptions);
      if (req.op === 'BuildPathsWithResults') return { op: req.op, results: outcomes };
      const failed = outcomes.filter((o) => ![0, 1, 2, 13].includes(o.result.status));
      if (failed.length > 0) throw new FarmError('FAILED_PRECONDITION', failed.map((o) => o.result.errorMsg).join('\n'));
      return { op: req.op, result: 1 };
    }
    case 'QueryMissing': {
      const syntax = workerDerivedPathSyntax(version);
      const missing = await queryMissing(
        store,
        req.derivedPaths.map((s) => {
          const d = parseDerivedPath(s, syntax);
          return d.type === 'opaque' ? { path: storePathArg(d.path, req.op) } : { drvPath: storePathArg(d.drvPath, req.op), outputs: d.outputs };
        }),
      );
      return { op: req.op, willBuild: missing.willBuild, willSubstitute: [], unknown: missing.unknown, downloadSize: 0, narSize: 0 };
    }
    case 'QueryDerivationOutputMap': {
      const drv = await store.getDerivation(storePathArg(req.path, req.op));
      if (drv === undefined) throw new FarmError('NOT_FOUND', `derivation '${req.path}' is not in the farm store`);
      return { op: req.op, outputs: [...drv.outputs].map(([name, o]) => [name, o.path] as const) };
    }
    case 'AddSignatures':
      throw unsupported('AddSignatures', 'path signatures come from the farm\'s own cache key');
    case 'RegisterDrvOutput':
    case 'QueryRealisation':
      throw unsupported(req.op, 'content-addressed derivations (realisations) are not offered');
    case 'AddBuildLog':
      throw unsupported('AddBuildLog', 'build logs are the ones its agents record');
    case 'AddPermRoot':
      throw unsupported('AddPermRoot', 'the farm store has no GC roots for clients');
    case 'NarFromPath':
      throw new FarmError('INTERNAL', 'NarFromPath is answered by the session loop');
  }
}
