/**
 * The coordinator's operator HTTP endpoint (config `ops.listen`): one listener for what operators
 * look at, its routes contributed by the parts that own them — `/metrics` (Prometheus, adapters/
 * metrics/) and the live dashboard with its JSON and server-sent-event API (adapters/dashboard/).
 *
 * Routes match the request's pathname exactly (a string) or by pattern (a RegExp, whose match is
 * handed to the handler). Unknown paths are 404 and other methods 405, as JSON. No request can
 * crash the process: a failing handler is logged and answered 500 (or its response cut if it had
 * started). Long-lived responses (server-sent events) get an AbortSignal that fires when the
 * client goes or the server closes; close() ends them all.
 */
import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import { listenHttp, type Logger } from '@farm/common';

export type OpsMethod = 'GET' | 'HEAD' | 'POST';

export interface OpsRequest {
  readonly req: IncomingMessage;
  readonly res: ServerResponse;
  readonly url: URL;
  /** The RegExp match of a pattern route. */
  readonly match: RegExpExecArray | undefined;
  /** Aborted when the client disconnects or the server closes. */
  readonly signal: AbortSignal;
}

export interface OpsRoute {
  readonly path: string | RegExp;
  /** Default GET and HEAD. */
  readonly methods?: readonly OpsMethod[];
  handle(request: OpsRequest): void | Promise<void>;
}

export interface RunningOpsServer {
  /** http://host:port */
  readonly url: string;
  close(): Promise<void>;
}

const DEFAULT_METHODS: readonly OpsMethod[] = ['GET', 'HEAD'];

export function sendJson(res: ServerResponse, status: number, body: unknown): void {
  const text = Buffer.from(`${JSON.stringify(body)}\n`, 'utf8');
  res.writeHead(status, { 'content-type': 'application/json; charset=utf-8', 'content-length': text.length, 'cache-control': 'no-store' });
  res.end(text);
}

function findRoute(routes: readonly OpsRoute[], pathname: string): { route: OpsRoute; match: RegExpExecArray | undefined } | undefined {
  for (const route of routes) {
    if (typeof route.path === 'string') {
      if (route.path === pathname) return { route, match: undefined };
      continue;
    }
    const match = route.path.exec(pathname);
    if (match !== null) return { route, match };
  }
  return undefined;
}

export async function startOpsServer(deps: { readonly routes: readonly OpsRoute[]; readonly logger: Logger }, listen: string): Promise<RunningOpsServer> {
  const { routes, logger } = deps;
  const requests = new Set<AbortController>();

  async function handle(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const ctl = new AbortController();
    requests.add(ctl);
    res.on('close', () => ctl.abort());
    try {
      const url = new URL(req.url ?? '/', 'http://ops.invalid');
      const found = findRoute(routes, url.pathname);
      if (found === undefined) {
        sendJson(res, 404, { error: { code: 'NOT_FOUND', message: `no ${url.pathname} here` } });
        return;
      }
      const methods = found.route.methods ?? DEFAULT_METHODS;
      if (!methods.includes(req.method as OpsMethod)) {
        res.setHeader('allow', methods.join(', '));
        sendJson(res, 405, { error: { code: 'INVALID_ARGUMENT', message: `${url.pathname} takes ${methods.join(' or ')}` } });
        return;
      }
      await found.route.handle({ req, res, url, match: found.match, signal: ctl.signal });
    } catch (e) {
      logger.error({ err: e, url: req.url }, 'ops request failed');
      if (!res.headersSent) sendJson(res, 500, { error: { code: 'INTERNAL', message: 'internal error' } });
      else res.destroy();
    } finally {
      requests.delete(ctl);
    }
  }

  const server = createServer((req, res) => void handle(req, res));
  const url = await listenHttp(server, listen, 'the ops endpoint', logger);
  logger.info({ url }, 'ops endpoint listening (dashboard, /metrics)');

  let closing: Promise<void> | undefined;
  return {
    url,
    close: () =>
      (closing ??= (async () => {
        const closed = new Promise<void>((resolve) => server.close(() => resolve()));
        for (const r of requests) r.abort();
        server.closeAllConnections();
        await closed;
      })()),
  };
}
