/**
 * The farm's signed HTTP binary cache (spec §9): every valid path of the farm store, as a Nix
 * client reads a cache made by `nix copy --to file://…` — so `substituters = http://…` plus the
 * farm's public key in `trusted-public-keys` lets any Nix fetch what the farm built.
 *
 *   GET|HEAD /nix-cache-info        StoreDir, WantMassQuery: 1, Priority
 *   GET|HEAD /<hash>.narinfo        the path info, signed by the farm key (+ the path's own sigs)
 *   GET|HEAD /nar/<fileHash>.nar…   the (compressed) NAR, streamed
 *   GET|HEAD /<hash>.ls             the NAR's JSON listing
 *   GET|HEAD /log/<drv base name>   the last attempt's build log of that derivation
 * Everything else is 404 (405 for other methods); no request can crash the process — an
 * unexpected failure is logged and answered 500, and a failure mid-stream cuts that response.
 * HEAD answers with the same status and headers as GET (Nix 2.8 probes narinfos with HEAD).
 */
import { createReadStream } from 'node:fs';
import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import { Readable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { FarmError, isFarmError, listenHttp, parseHttpListen, type Logger } from '@farm/common';
import { DEFAULT_STORE_DIR, formatNixCacheInfo } from '@farm/nix';
import type { FarmStore } from '../../ports/farm-store.js';
import type { LogSource } from '../../ports/log-source.js';
import { lastAttemptLog } from './build-log.js';
import type { CacheKey } from './cache-key.js';
import { compressionMethod, type CacheCompression } from './compression.js';
import { NarFiles } from './nar-files.js';
import { NarListings } from './nar-listings.js';
import { narInfoText } from './narinfo-text.js';
import { routeOf, type CacheRoute } from './routes.js';
import { prepareWorkLayout, workLayout } from './work-layout.js';

export interface HttpCacheOptions {
  /** 'host:port'; port 0 picks one. */
  readonly listen: string;
  readonly key: CacheKey;
  readonly compression: CacheCompression;
  /** nix-cache-info Priority (lower is preferred; Nix's own cache.nixos.org says 40). */
  readonly priority: number;
  /** Where compressed NARs, listings and their metadata are kept (derived data). */
  readonly workDir: string;
}

export const DEFAULT_CACHE_PRIORITY = 40;

export interface HttpCacheDeps {
  readonly store: FarmStore;
  readonly logs?: LogSource;
  readonly logger: Logger;
}

export interface RunningHttpCache {
  /** http://host:port */
  readonly url: string;
  close(): Promise<void>;
}

const TYPES = {
  cacheInfo: 'text/x-nix-cache-info',
  narinfo: 'text/x-nix-narinfo',
  nar: 'application/x-nix-nar',
  listing: 'application/json',
  log: 'text/plain; charset=utf-8',
} as const;

/** A response to send: a body in memory, or a stream opened only for GET. */
type Reply =
  | { readonly status: number; readonly type: string; readonly body: string | Buffer }
  | { readonly status: 200; readonly type: string; readonly size: number; open(): Promise<AsyncIterable<Uint8Array>> };

const notFound = (what: string): Reply => ({ status: 404, type: 'text/plain; charset=utf-8', body: `${what}\n` });

export async function startHttpCache(deps: HttpCacheDeps, options: HttpCacheOptions): Promise<RunningHttpCache> {
  const method = compressionMethod(options.compression);
  if (!Number.isSafeInteger(options.priority)) throw new FarmError('INVALID_CONFIG', `the binary cache priority must be an integer, got ${options.priority}`);
  parseHttpListen(options.listen, 'the binary cache'); // a bad address fails before any work
  const layout = workLayout(options.workDir);
  await prepareWorkLayout(layout);
  const { store, logger } = deps;
  const narFiles = new NarFiles(store, method, layout, logger);
  const listings = new NarListings(store, layout);
  const cacheInfo = formatNixCacheInfo({ storeDir: DEFAULT_STORE_DIR, wantMassQuery: true, priority: options.priority });
  const requests = new Set<AbortController>();

  async function pathInfoOf(hashPart: string) {
    const path = await store.queryPathFromHashPart(hashPart);
    return path === undefined ? undefined : store.getPathInfo(path);
  }

  async function answer(route: CacheRoute, signal: AbortSignal): Promise<Reply> {
    switch (route.kind) {
      case 'cache-info':
        return { status: 200, type: TYPES.cacheInfo, body: cacheInfo };
      case 'narinfo': {
        const info = await pathInfoOf(route.hashPart);
        if (info === undefined) return notFound(`no path ${route.hashPart} in this cache`);
        const file = await narFiles.fileOf(info);
        return { status: 200, type: TYPES.narinfo, body: narInfoText(info, file, method.name, options.key) };
      }
      case 'nar': {
        const nar = await narFiles.find(route.fileName);
        if (nar === undefined) return notFound(`no NAR ${route.fileName} in this cache`);
        return { status: 200, type: TYPES.nar, size: nar.size, open: () => nar.open() };
      }
      case 'listing': {
        const info = await pathInfoOf(route.hashPart);
        if (info === undefined) return notFound(`no path ${route.hashPart} in this cache`);
        const ls = await listings.listingOf(info);
        return { status: 200, type: TYPES.listing, size: ls.size, open: async () => createReadStream(ls.file) };
      }
      case 'log': {
        if (deps.logs === undefined) return notFound('this cache serves no build logs');
        // Only for a derivation the farm knows under exactly this name (the job id is just its hash part).
        if ((await store.getDerivationAterm(`${DEFAULT_STORE_DIR}/${route.drvBaseName}`)) === undefined) return notFound(`no derivation ${route.drvBaseName} in this farm`);
        const log = await lastAttemptLog(deps.logs, route.hashPart, signal);
        if (log === undefined) return notFound(`no build log of ${route.drvBaseName}`);
        return { status: 200, type: TYPES.log, size: log.size, open: async () => log.chunks(signal) };
      }
    }
  }

  async function handle(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const ctl = new AbortController();
    requests.add(ctl);
    res.on('close', () => ctl.abort());
    try {
      if (req.method !== 'GET' && req.method !== 'HEAD') {
        res.writeHead(405, { allow: 'GET, HEAD', 'content-type': 'text/plain; charset=utf-8' }).end('only GET and HEAD\n');
        return;
      }
      const route = routeOf(req.url ?? '');
      let reply: Reply;
      try {
        reply = route === undefined ? notFound('not found') : await answer(route, ctl.signal);
      } catch (e) {
        // A path that stopped being servable between the lookups is simply not there.
        if (!isFarmError(e, 'NOT_FOUND')) throw e;
        reply = notFound(e.message);
      }
      logger.debug({ method: req.method, url: req.url, status: reply.status }, 'binary cache request');
      if ('body' in reply) {
        const body = typeof reply.body === 'string' ? Buffer.from(reply.body, 'utf8') : reply.body;
        res.writeHead(reply.status, { 'content-type': reply.type, 'content-length': body.length });
        res.end(body); // Node sends no body for HEAD
        return;
      }
      res.writeHead(200, { 'content-type': reply.type, 'content-length': reply.size });
      if (req.method === 'HEAD' || ctl.signal.aborted) {
        res.end();
        return;
      }
      const source = await reply.open();
      try {
        await pipeline(Readable.from(source, { objectMode: false }), res);
      } catch (e) {
        if (!ctl.signal.aborted) logger.warn({ err: e, url: req.url }, 'binary cache response cut short');
        res.destroy();
      }
    } catch (e) {
      logger.error({ err: e, url: req.url }, 'binary cache request failed');
      if (!res.headersSent) res.writeHead(500, { 'content-type': 'text/plain; charset=utf-8' }).end('internal error\n');
      else res.destroy();
    } finally {
      requests.delete(ctl);
    }
  }

  const server = createServer((req, res) => void handle(req, res));
  const url = await listenHttp(server, options.listen, 'the binary cache', logger);
  logger.info({ url, compression: method.name, publicKey: options.key.publicKey }, 'binary cache listening');

  let closing: Promise<void> | undefined;
  return {
    url,
    close: () =>
      (closing ??= (async () => {
        const closed = new Promise<void>((resolve) => server.close(() => resolve()));
        for (const r of requests) r.abort();
        server.closeAllConnections();
        await closed;
        await narFiles.close();
        await listings.close();
      })()),
  };
}
