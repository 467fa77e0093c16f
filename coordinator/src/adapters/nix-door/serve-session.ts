/**
 * One `nix-store --serve [--write]` session (spec §6) against the farm: handshake, then commands
 * until the client closes stdin. The serve protocol has no error channel, so — as Nix's own
 * server does — a failure is written to stderr and ends the session (exit status 1); build
 * failures are BuildResults. Build logs go to stderr while the build runs, which Nix's build
 * hook shows as the derivation's log.
 */
import { FarmError } from '@farm/common';
import {
  concatBytes,
  decodeServeClientHello,
  decodeServeRequest,
  encodeServeReply,
  encodeServeServerHello,
  negotiateVersion,
  parseDerivedPath,
  pathInfoFromWire,
  sha256,
  SERVE_PROTOCOL_VERSION,
  SERVE_WRITE_COMMANDS,
  StreamSource,
  WireReader,
  type ExportedPath,
  type ServePathInfo,
  type ServeReply,
  type ServeRequest,
} from '@farm/nix';
import { importUploadedPath, importUploadedPaths, sortByReferences } from '../../service/door-store.js';
import { pipeTo, shownPathInfo, storePathArg, storePathArgs, writeAll, type DoorContext } from './door-context.js';
import type { DoorPrincipal, NixSessionStreams } from './session-api.js';

export async function runServeSession(ctx: DoorContext, write: boolean, principal: DoorPrincipal, io: NixSessionStreams): Promise<void> {
  const reader = new WireReader(new StreamSource(io.input));
  const hello = await decodeServeClientHello(reader);
  await writeAll(io.output, encodeServeServerHello({ serverVersion: SERVE_PROTOCOL_VERSION }));
  const version = negotiateVersion(hello.clientVersion, SERVE_PROTOCOL_VERSION);
  for (;;) {
    const req = await decodeServeRequest(reader, version, { maxNarSize: ctx.maxUploadBytes, nar: { maxNarSize: ctx.maxUploadBytes } });
    if (req === undefined) return;
    if (!write && SERVE_WRITE_COMMANDS.has(req.cmd)) {
      throw new FarmError('FAILED_PRECONDITION', `'${req.cmd}' changes the store and needs 'nix-store --serve --write'`);
    }
    if (req.cmd === 'DumpStorePath') {
      const path = storePathArg(req.path, 'DumpStorePath');
      if (!(await ctx.store.isValidPath(path))) throw new FarmError('NOT_FOUND', `path '${path}' is not valid in the farm store`);
      await pipeTo(io.output, await ctx.store.narStream(path));
      continue;
    }
    const reply = await answer(ctx, req, principal, io);
    await writeAll(io.output, encodeServeReply(reply, version));
  }
}

async function answer(ctx: DoorContext, req: Exclude<ServeRequest, { cmd: 'DumpStorePath' }>, principal: DoorPrincipal, io: NixSessionStreams): Promise<ServeReply> {
  const { store } = ctx;
  switch (req.cmd) {
    case 'QueryValidPaths': {
      const valid = await store.queryValidPaths(storePathArgs(req.paths, 'QueryValidPaths'));
      return { cmd: req.cmd, paths: req.paths.filter((p) => valid.has(p)) };
    }
    case 'QueryPathInfos': {
      const infos: ServePathInfo[] = [];
      for (const path of storePathArgs(req.paths, 'QueryPathInfos')) {
        const stored = await store.getPathInfo(path);
        if (stored === undefined) continue;
        const info = shownPathInfo(ctx, stored);
        infos.push({
          path,
          deriver: info.deriver ?? '',
          references: info.references,
          downloadSize: Number(info.narSize),
          narSize: Number(info.narSize),
          narHash: info.narHash.toPrefixed('nix32'),
          ca: info.ca ?? '',
          sigs: info.sigs,
        });
      }
      return { cmd: req.cmd, infos };
    }
    case 'QueryClosure': {
      const roots = new Set(storePathArgs(req.paths, 'QueryClosure'));
      if (req.includeOutputs) {
        for (const p of [...roots]) {
          if (!p.endsWith('.drv')) continue;
          const drv = await store.getDerivation(p);
          for (const o of drv?.outputs.values() ?? []) if (o.path !== '' && (await store.isValidPath(o.path))) roots.add(o.path);
        }
      }
      return { cmd: req.cmd, paths: await store.closure(roots) };
    }
    case 'ExportPaths': {
      const paths: ExportedPath[] = [];
      const infos = [];
      for (const path of storePathArgs(req.paths, 'ExportPaths')) {
        const info = await store.getPathInfo(path);
        if (info === undefined) throw new FarmError('NOT_FOUND', `path '${path}' is not valid in the farm store`);
        infos.push(info);
      }
      for (const info of sortByReferences(infos, (i) => i)) {
        const chunks: Uint8Array[] = [];
        for await (const c of await store.narStream(info.path)) chunks.push(c as Uint8Array);
        paths.push({ nar: concatBytes(chunks), path: info.path, references: info.references, deriver: info.deriver ?? '' });
      }
      return { cmd: req.cmd, paths };
    }
    case 'ImportPaths': {
      const items = req.paths.map((p) => ({
        info: pathInfoFromWire({ path: storePathArg(p.path, 'ImportPaths'), deriver: p.deriver, narHash: sha256(p.nar).toPrefixed('nix32'), references: p.references, registrationTime: 0, narSize: p.nar.length, ultimate: false, sigs: [], ca: '' }),
        nar: p.nar,
      }));
      await importUploadedPaths(store, items);
      return { cmd: req.cmd, result: 1 };
    }
    case 'AddToStoreNar': {
      storePathArg(req.info.path, 'AddToStoreNar');
      await importUploadedPath(store, pathInfoFromWire({ ...req.info, ultimate: false }), req.nar);
      return { cmd: req.cmd, result: 1 };
    }
    case 'BuildDerivation': {
      const result = await ctx.builds.buildDerivation(req.drvPath, req.derivation, {
        client: principal,
        timeoutMs: req.settings.buildTimeout * 1000,
        maxSilentMs: req.settings.maxSilentTime * 1000,
        onLog: (text) => void io.log.write(text),
        signal: io.signal,
      });
      return { cmd: req.cmd, result };
    }
    case 'BuildPaths': {
      const paths = req.paths.map((s) => {
        const d = parseDerivedPath(s, 'old');
        return d.type === 'built' ? { path: s, drvPath: storePathArg(d.drvPath, 'BuildPaths'), outputs: d.outputs } : { path: storePathArg(d.path, 'BuildPaths') };
      });
      const outcomes = await ctx.builds.buildPaths(paths, {
        client: principal,
        timeoutMs: req.settings.buildTimeout * 1000,
        maxSilentMs: req.settings.maxSilentTime * 1000,
        onLog: (text) => void io.log.write(text),
        signal: io.signal,
      });
      const failed = outcomes.filter((o) => ![0, 1, 2, 13].includes(o.result.status));
      if (failed.length === 0) return { cmd: req.cmd, status: 0, errorMsg: '' };
      // Nix's exit status for failed builds is 100 (+ flags); the message lists each failure.
      return { cmd: req.cmd, status: 100, errorMsg: failed.map((o) => o.result.errorMsg).join('\n') };
    }
  }
}
