/** `host:port` (IPv6 as `[::1]:22`) split for `net.Server.listen`, and the address to report. */
import { FarmError } from '@farm/common';

export interface ListenAddress {
  readonly host: string;
  readonly port: number;
}

export function parseListenAddress(listen: string): ListenAddress {
  const m = /^(?:\[([0-9A-Fa-f:.]+)\]|([^:[\]]*)):([0-9]{1,5})$/.exec(listen);
  const port = m === null ? NaN : Number(m[3]);
  if (m === null || port > 65535) throw new FarmError('INVALID_CONFIG', `the SSH listen address '${listen}' must be host:port (port 0 picks one)`);
  const host = m[1] ?? m[2] ?? '';
  return { host: host === '' ? '0.0.0.0' : host, port };
}

/** What a client on this machine connects to: a wildcard bind is reported as loopback (like the gRPC server). */
export function reportedAddress(host: string, port: number): string {
  if (host === '0.0.0.0') return `127.0.0.1:${port}`;
  if (host === '::') return `[::1]:${port}`;
  return host.includes(':') ? `[${host}]:${port}` : `${host}:${port}`;
}
