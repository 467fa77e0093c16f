/**
 * The agent's `/metrics` endpoint (config `metrics.listen`, 'host:port', port 0 picks one): a
 * bare node:http server with one route. The URL is written to `<stateDir>/metrics-url` while it
 * runs, so `farm up` (and people) can find an agent's endpoint; close() removes it.
 */
import { rmSync, writeFileSync } from 'node:fs';
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { join } from 'node:path';
import { FarmError, type Logger } from '@farm/common';
import type { Registry } from 'prom-client';

export const METRICS_URL_FILE = 'metrics-url';

export interface RunningMetricsServer {
  /** http://host:port/metrics */
  readonly url: string;
  close(): Promise<void>;
}

export async function startMetricsServer(registry: Registry, listen: string, options: { readonly stateDir: string; readonly logger: Logger }): Promise<RunningMetricsServer> {
  const { host, port } = parseListen(listen);
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
  await new Promise<void>((resolve, reject) => {
    const fail = (e: Error) => reject(new FarmError('UNAVAILABLE', `the agent's metrics endpoint cannot listen on ${listen}: ${e.message}`, {}, { cause: e }));
    server.once('error', fail);
    server.listen(port, host, () => {
      server.off('error', fail);
      resolve();
    });
  });
  server.on('error', (e) => options.logger.error({ err: e }, 'metrics server error'));
  const bound = (server.address() as AddressInfo).port;
  const shown = host === '' || host === '0.0.0.0' ? '127.0.0.1' : host === '::' ? '[::1]' : host.includes(':') ? `[${host}]` : host;
  const url = `http://${shown}:${bound}/metrics`;
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

/** 'host:port', '[v6]:port' or ':port' (all interfaces). */
function parseListen(listen: string): { host: string; port: number } {
  const m = /^(?:\[([0-9a-fA-F:.]+)\]|([^:\s]*)):(\d{1,5})$/.exec(listen.trim());
  const port = Number(m?.[3]);
  if (m === null || !(port >= 0 && port <= 65535)) throw new FarmError('INVALID_CONFIG', `metrics.listen: '${listen}' is not host:port`);
  return { host: m[1] ?? m[2] ?? '', port };
}
