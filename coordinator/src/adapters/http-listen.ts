/** An HTTP listener's `host:port` (IPv6 as `[::1]:8080`; port 0 picks one) and the URL clients use. */
import { FarmError } from '@farm/common';

export interface ListenAddress {
  readonly host: string;
  readonly port: number;
}

/** `what` names the listener in the error ("the binary cache", "the ops endpoint"). */
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
