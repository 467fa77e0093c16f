/**
 * `GET /metrics` on the coordinator's operator endpoint (http-ops/ops-server.ts): the
 * Prometheus text exposition of the coordinator's registry. HEAD answers the headers only.
 */
import type { Registry } from 'prom-client';
import type { OpsRoute } from '../http-ops/ops-server.js';

export function metricsRoutes(registry: Registry): OpsRoute[] {
  return [
    {
      path: '/metrics',
      async handle({ req, res }) {
        const body = Buffer.from(await registry.metrics(), 'utf8');
        res.writeHead(200, { 'content-type': registry.contentType, 'content-length': body.length, 'cache-control': 'no-store' });
        res.end(req.method === 'HEAD' ? undefined : body);
      },
    },
  ];
}
