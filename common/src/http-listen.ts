/**
 * The farm's HTTP listeners (the binary cache, the coordinator's ops endpoint, an agent's
 * /metrics): one way to read a `host:port` setting, bind it, and say the URL clients use.
 */
import type { Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { FarmError } from './errors.js';
import type { Logger } from './logger.js';

export interface ListenAddress {
  readonly host: string;
  readonly port: number;
}

/** `host:port`, `[v6]:port` or `:port` (all interfaces); port 0 picks one. `what` names the listener in the error ("the binary cache"). */
export function parseHttpListen(listen: string, what: string): ListenAddress {
  const m = /^(?:\[([0-9A-Fa-f:.]+)\]|([^:[\]]*)):([0-9]{1,5})$/.exec(listen);
  const port = m === null ? NaN : Number(m[3]);
  if (m === null || port > 65535) throw new FarmError('INVALID_CONFIG', `${what} listen address '${listen}' must be host:port (port 0 picks one)`);
  const host = m[1] ?? m[2] ?? '';
  return { host: host === '' ? '0.0.0.0' : host, port };
}

/** `http://host:port` for the bound address; a wildcard bind is reported as loopback (like the gRPC address). */
export function httpUrl(host: string, port: number): string {
  const h = host === '0.0.0.0' ? '127.0.0.1' : host === '::' ? '::1' : host;
  return h.includes(':') ? `http://[${h}]:${port}` : `http://${h}:${port}`;
}

/**
 * Binds `server` to `listen` and returns its URL. Malformed HTTP (not even a request line) is
 * answered 400 and never becomes an unhandled error; a failure to bind is UNAVAILABLE naming
 * `what`; later server errors are logged.
 */
export async function listenHttp(server: Server, listen: string, what: string, logger: Logger): Promise<string> {
  const { host, port } = parseHttpListen(listen, what);
  server.on('clientError', (_err, socket) => {
    if (socket.writable) socket.end('HTTP/1.1 400 Bad Request\r\nconnection: close\r\n\r\n');
    else socket.destroy();
  });
  await new Promise<void>((resolve, reject) => {
    const fail = (e: Error) => reject(new FarmError('UNAVAILABLE', `${what} cannot listen on ${listen}: ${e.message}`, {}, { cause: e }));
    server.once('error', fail);
    server.listen(port, host, () => {
      server.off('error', fail);
      resolve();
    });
  });
  server.on('error', (e) => logger.error({ err: e }, `${what}: server error`));
  return httpUrl(host, (server.address() as AddressInfo).port);
}
