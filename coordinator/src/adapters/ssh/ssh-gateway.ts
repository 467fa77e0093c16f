/**
 * The farm's SSH endpoint ("the Nix door" over SSH): Nix clients reach the farm as
 * `ssh-ng://farm-host` / `ssh://farm-host` (as a store or a builder) with nothing installed on
 * the farm host but this gateway — no sshd, no system accounts, no nix on the coordinator.
 *
 * - Authentication: public keys only, listed in an OpenSSH authorized_keys file that is read
 *   again at every login (edits take effect without a restart). Any user name is accepted for a
 *   listed key; the principal is the key (see key-principal.ts for its name and limits).
 * - authorized_keys options understood: `restrict`, `no-pty`, `no-port-forwarding`,
 *   `no-agent-forwarding`, `no-X11-forwarding`, `no-user-rc`, `command="…"` (forced command),
 *   and the farm's `farm-name="alice"`, `farm-systems="x86_64-linux,aarch64-linux"`,
 *   `farm-max-builds=4`. A line with any other option or a malformed value is skipped with a
 *   warning naming the file and line, like sshd.
 * - Per session channel: `exec` of `nix-store --serve [--write]`, `nix-daemon --stdio` (any path
 *   to them) or `farm nix-stdio --stdio` runs a NixDoor session on the channel's stdin, stdout
 *   and stderr and reports its status; any other command gets a one-line message and status 127;
 *   a shell gets a refusal and status 1. No pty is needed, no forwarding and no sftp offered.
 *   Several sessions on one connection (OpenSSH ControlMaster) each run their own door session.
 * - A client that goes away aborts its door sessions' signal; close() aborts all of them.
 *
 * The host key lives in `hostKeyFile` (created as ed25519 on the first start, so known_hosts
 * entries survive restarts); `hostKey` is its public line for known_hosts.
 */
import { createServer, type Server as NetServer, type Socket } from 'node:net';
import ssh2 from 'ssh2';
import type { AuthContext, ClientInfo, Connection, Session } from 'ssh2';
import { FarmError, type Logger } from '@farm/common';
import type { NixDoor } from '../nix-door/session-api.js';
import { decideAuthentication } from './authenticate.js';
import { AuthorizedKeysFile } from './authorized-keys-file.js';
import { sshFingerprint } from './authorized-keys.js';
import type { ChannelStreams } from './channel-streams.js';
import { loadOrCreateHostKey } from './host-key.js';
import { grantFor, type KeyGrant, type KeySettings } from './key-principal.js';
import { parseListenAddress, reportedAddress } from './listen-address.js';
import { serveSessionChannel } from './session-channel.js';

export interface SshGatewayOptions {
  /** 'host:port'; port 0 picks one. */
  readonly listen: string;
  /** OpenSSH private key; created (ed25519, mode 0600) if missing. */
  readonly hostKeyFile: string;
  /** OpenSSH authorized_keys format; read again at each login. */
  readonly authorizedKeysFile: string;
  /** Per-key settings from the farm config, keyed by key name (comment / farm-name) or by SHA256:… fingerprint. */
  readonly keys?: Readonly<Record<string, KeySettings>>;
}

export interface SshGatewayDeps {
  readonly door: NixDoor;
  readonly logger: Logger;
}

export interface RunningSshGateway {
  /** host:port bound (a wildcard host is reported as loopback). */
  readonly address: string;
  /** The host public key as an OpenSSH line 'ssh-ed25519 AAAA… farm'. */
  readonly hostKey: string;
  /** Stops listening and ends open sessions (their door sessions see their signal abort). */
  close(): Promise<void>;
}

/** Like sshd's LoginGraceTime and MaxAuthTries: an unauthenticated client may not linger or guess forever. */
const LOGIN_GRACE_MS = 120_000;
const MAX_AUTH_REJECTIONS = 20;
/** How long close() lets aborted door sessions wind down, then clients disconnect, before sockets are cut. */
const DOOR_WIND_DOWN_MS = 5000;
const DISCONNECT_GRACE_MS = 2000;

function delay(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms).unref());
}

export async function startSshGateway(deps: SshGatewayDeps, options: SshGatewayOptions): Promise<RunningSshGateway> {
  const logger = deps.logger.child({ component: 'ssh-gateway' });
  const { host, port } = parseListenAddress(options.listen);
  const hostKey = await loadOrCreateHostKey(options.hostKeyFile, logger);
  const authorized = new AuthorizedKeysFile(options.authorizedKeysFile, logger);
  await authorized.current(); // logs the file's problems at start, not at the first login

  const sockets = new Set<Socket>();
  const clients = new Set<Connection>();
  const running = new Map<ChannelStreams, Promise<void>>();
  let closing = false;

  const ssh = new ssh2.Server({ hostKeys: [hostKey.privateKey], ident: 'farm' });
  ssh.on('error', (e: Error) => logger.warn({ err: e }, 'ssh server error'));
  ssh.on('connection', (client: Connection, info: ClientInfo) => {
    const remote = reportedRemote(info);
    const log = logger.child({ remote });
    const sessions = new Set<ChannelStreams>();
    let grant: KeyGrant | undefined;
    let rejections = 0;
    /** Fingerprints of the keys refused on this connection, for one info line if it never logs in. */
    const refusedKeys = new Set<string>();
    clients.add(client);
    const loginGrace = setTimeout(() => {
      log.info('ssh client did not authenticate in time; disconnecting');
      client.end();
    }, LOGIN_GRACE_MS).unref();
    client.on('error', (e: Error) => log.debug({ err: e }, 'ssh client error'));
    client.on('close', () => {
      clearTimeout(loginGrace);
      if (grant === undefined && refusedKeys.size > 0) log.info({ refusedKeys: [...refusedKeys] }, 'ssh client disconnected without authenticating');
      clients.delete(client);
      for (const s of sessions) s.abort('the client disconnected');
    });
    client.on('authentication', (ctx: AuthContext) => {
      void (async () => {
        try {
          const decision = decideAuthentication(ctx, await authorized.current());
          if (decision.kind === 'rejected') {
            log.debug({ user: ctx.username, method: ctx.method, reason: decision.reason }, 'ssh authentication refused');
            if (ctx.method === 'publickey' && refusedKeys.size < MAX_AUTH_REJECTIONS) refusedKeys.add(sshFingerprint(ctx.key.data));
            ctx.reject(['publickey']);
            if (++rejections >= MAX_AUTH_REJECTIONS) {
              log.info({ rejections }, 'too many refused ssh authentication attempts; disconnecting');
              client.end();
            }
            return;
          }
          // Before accept(): ssh2 emits 'ready' from inside it.
          if (decision.kind === 'authenticated') grant = grantFor(decision.key, options.keys);
          ctx.accept();
        } catch (e) {
          // the connection went away while the file was read, or ssh2 refused the answer
          log.debug({ err: e }, 'ssh authentication not answered');
        }
      })();
    });
    client.on('ready', () => {
      clearTimeout(loginGrace);
      if (grant === undefined) return client.end(); // cannot happen: only a verified key accepts
      const g = grant;
      log.info({ principal: g.principal.name, fingerprint: g.fingerprint }, 'ssh connection authenticated');
      client.on('session', (accept: () => Session) => {
        serveSessionChannel(accept(), {
          door: deps.door,
          grant: g,
          logger: log,
          track: (streams, done) => {
            sessions.add(streams);
            running.set(streams, done);
            if (closing) streams.abort('the farm is shutting down');
            void done.then(() => {
              sessions.delete(streams);
              running.delete(streams);
            });
          },
        });
      });
    });
    // Port forwarding (tcpip-forward, direct-tcpip, streamlocal) is not offered.
    client.on('request', (_accept: unknown, reject: (() => void) | undefined, name: string) => {
      log.debug({ request: name }, 'refused an ssh global request');
      reject?.();
    });
    client.on('tcpip', (_accept: unknown, reject: () => void) => reject());
    client.on('openssh.streamlocal', (_accept: unknown, reject: () => void) => reject());
  });

  const server: NetServer = createServer((socket) => {
    if (closing) return socket.destroy();
    sockets.add(socket);
    socket.once('close', () => sockets.delete(socket));
    socket.on('error', (e) => logger.debug({ err: e }, 'ssh socket error'));
    ssh.injectSocket(socket);
  });
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(port, host, () => {
      server.off('error', reject);
      resolve();
    });
  }).catch((e: unknown) => {
    throw new FarmError('UNAVAILABLE', `cannot listen for SSH on ${options.listen}: ${(e as Error).message}`, {}, { cause: e });
  });
  server.on('error', (e) => logger.warn({ err: e }, 'ssh listener error'));
  const bound = server.address();
  const address = reportedAddress(host, typeof bound === 'object' && bound !== null ? bound.port : port);
  logger.info({ address, hostKey: hostKey.publicLine }, 'SSH door listening');

  let closed: Promise<void> | undefined;
  const close = async (): Promise<void> => {
    closing = true;
    const stopped = new Promise<void>((resolve) => server.close(() => resolve()));
    for (const s of running.keys()) s.abort('the farm is shutting down');
    await Promise.race([Promise.allSettled([...running.values()]), delay(DOOR_WIND_DOWN_MS)]);
    for (const c of clients) {
      try {
        c.end();
      } catch {
        // already gone
      }
    }
    const allClosed = Promise.all([...sockets].map((s) => new Promise<void>((r) => (s.closed ? r() : s.once('close', () => r())))));
    await Promise.race([allClosed, delay(DISCONNECT_GRACE_MS)]);
    for (const s of sockets) s.destroy();
    await stopped;
    logger.info({ address }, 'SSH door closed');
  };
  return {
    address,
    hostKey: hostKey.publicLine,
    close: () => (closed ??= close()),
  };
}

function reportedRemote(info: ClientInfo): string {
  return info.ip.includes(':') ? `[${info.ip}]:${info.port}` : `${info.ip}:${info.port}`;
}
