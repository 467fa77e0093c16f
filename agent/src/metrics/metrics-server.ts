/**
 * The agent's `/metrics` endpoint (config `metrics.listen`, 'host:port', port 0 picks one): a
 * bare node:http server with one route. The URL is written to `<stateDir>/metrics-url` while it
 * runs, so `farm up` (and people) can find an agent's endpoint; close() removes it.
 */
import { rmSync, writeFileSync } from 'node:fs';
import { createServer } from 'node:http';
import { join } from 'node:path';
import { listenHttp, type Logger } from '@farm/common';
import type { Registry } from 'prom-client';

export const METRICS_URL_FILE = 'metrics-url';

export interface RunningMetricsServer {
  /** http://host:port/metrics */
  readonly url: string;
  close(): Promise<void>;
}

export async function startMetricsServer(registry: Registry, listen: string, options: { readonly stateDir: string; readonly logger: Logger }): Promise<RunningMetricsServer> {
  const server = createServer((req, res) => {
    const path = new URL(req.url ?? '/', 'http://agent.invalid').pathname;
    if (path !== '/metrics') {
      res.writeHead(404, { 'content-type': 'text/plain; charset=utf-8' }).end('not found: the agent serves /metrics only\n');
      return;
    }
    if (req.method !== 'GET' && req.method !== 'HEAD') {
      res.writeHead(405, { allow: 'GET, HEAD', 'content-type': 'text/plain; charset=utf-8' }).end('GET or HEAD\n');
      return;
    }
    registry.metrics().then(
      (text) => {
        const body = Buffer.from(text, 'utf8');
        res.writeHead(200, { 'content-type': registry.contentType, 'content-length': body.length, 'cache-control': 'no-store' });
        res.end(req.method === 'HEAD' ? undefined : body);
      },
      (e: unknown) => {
        options.logger.error({ err: e }, 'collecting metrics failed');
        if (!res.headersSent) res.writeHead(500, { 'content-type': 'text/plain; charset=utf-8' });
        res.end('internal error\n');
      },
    );
  });
  const url = `${await listenHttp(server, listen, "the agent's metrics endpoint", options.logger)}/metrics`;
  const file = join(options.stateDir, METRICS_URL_FILE);
  writeFileSync(file, `${url}\n`);
  options.logger.info({ url }, 'metrics endpoint listening');
  let closing: Promise<void> | undefined;
  return {
    url,
    close: () =>
      (closing ??= new Promise<void>((resolve) => {
        rmSync(file, { force: true });
        server.close(() => resolve());
        server.closeAllConnections();
      })),
  };
}
