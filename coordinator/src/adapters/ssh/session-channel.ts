/**
 * One SSH session channel of an authenticated connection: what OpenSSH and Nix send on it, and
 * the answers. `exec` runs a door session (the forced `command=` of the key first); `shell` is
 * refused with a hint; `pty-req` and `env` are accepted and ignored (OpenSSH sends them by
 * habit); subsystems (sftp), X11 and agent forwarding are refused. Several of these channels
 * may share one connection (ControlMaster), each its own door session.
 */
import { performance } from 'node:perf_hooks';
import type { Writable } from 'node:stream';
import type { AcceptConnection, RejectConnection, ServerChannel, Session } from 'ssh2';
import type { Logger } from '@farm/common';
import { parseDoorCommand } from '../nix-door/door-command.js';
import type { NixDoor } from '../nix-door/session-api.js';
import { channelStreams, type ChannelStreams } from './channel-streams.js';
import type { KeyGrant } from './key-principal.js';

export const SHELL_REFUSAL =
  "farm: interactive shells are not offered; this is a farm's Nix door. Use it from Nix: " +
  "'ssh-ng://HOST' (nix-daemon --stdio) or 'ssh://HOST' (nix-store --serve --write), " +
  "e.g. 'nix copy --to ssh-ng://HOST …', 'nix build --store ssh-ng://HOST …' or 'builders = ssh-ng://HOST …'\n";

export const EXIT_UNKNOWN_COMMAND = 127;

export interface SessionChannelContext {
  readonly door: NixDoor;
  readonly grant: KeyGrant;
  readonly logger: Logger;
  /** Called with each door session while it runs, so the connection and the gateway can abort it. */
  readonly track: (streams: ChannelStreams, done: Promise<void>) => void;
}

/** Writes `text`, then the exit status, then ends the channel (EOF + CLOSE). */
function finish(channel: ServerChannel, status: number, text?: string): void {
  const end = () => {
    channel.exit(status);
    channel.end();
  };
  if (text === undefined) end();
  else (channel.stderr as Writable).write(text, end);
}

// ssh2 passes undefined for accept/reject when the client wants no reply.
type Reply = (() => unknown) | undefined;
const replyWith = (f: Reply) => f?.();

async function runExec(session: Session, channel: ServerChannel, command: string, ctx: SessionChannelContext): Promise<void> {
  const { grant, logger } = ctx;
  const effective = grant.forcedCommand ?? command;
  const parsed = parseDoorCommand(effective);
  if ('error' in parsed) {
    logger.info({ principal: grant.principal.name, command }, 'refused an unknown command');
    finish(channel, EXIT_UNKNOWN_COMMAND, `farm: ${parsed.error}\n`);
    return;
  }
  const streams = channelStreams(session, channel);
  const started = performance.now();
  const log = logger.child({ principal: grant.principal.name, mode: parsed.mode });
  log.info(grant.forcedCommand === undefined ? {} : { command, forcedCommand: grant.forcedCommand }, 'door session started');
  let release!: () => void;
  ctx.track(streams, new Promise<void>((r) => (release = r)));
  try {
    let status: number;
    try {
      status = await ctx.door.run(parsed.mode, grant.principal, streams);
    } catch (e) {
      // The contract says run never rejects; a bug there must still end this session only.
      log.error({ err: e }, 'door session failed');
      status = 1;
    }
    if (streams.signal.aborted) {
      log.info({ status, durationMs: Math.round(performance.now() - started), aborted: true }, 'door session ended');
      try {
        channel.close();
      } catch {
        // the connection is already gone
      }
      return;
    }
    await streams.flushed();
    finish(channel, status);
    log.info({ status, durationMs: Math.round(performance.now() - started) }, 'door session ended');
  } finally {
    release();
  }
}

export function serveSessionChannel(session: Session, ctx: SessionChannelContext): void {
  const { grant, logger } = ctx;
  session.on('error', (e: Error) => logger.debug({ err: e }, 'ssh session error'));
  session.on('pty', (accept: Reply, reject: Reply) => replyWith(grant.allowPty ? accept : reject));
  session.on('env', (accept: Reply) => replyWith(accept));
  session.on('window-change', (accept: Reply) => replyWith(accept));
  for (const refused of ['x11', 'auth-agent', 'signal', 'sftp', 'subsystem']) {
    session.on(refused, (_accept: Reply, reject: Reply, info?: { name?: string }) => {
      logger.debug({ principal: grant.principal.name, request: refused, name: info?.name }, 'refused an ssh session request');
      replyWith(reject);
    });
  }
  session.once('shell', (accept: AcceptConnection<ServerChannel>) => {
    const channel = accept();
    channel.on('error', (e: Error) => logger.debug({ err: e }, 'ssh channel error'));
    logger.info({ principal: grant.principal.name }, 'refused an interactive shell');
    finish(channel, 1, SHELL_REFUSAL);
  });
  session.once('exec', (accept: AcceptConnection<ServerChannel>, _reject: RejectConnection, info: { command: string }) => {
    const channel = accept();
    channel.on('error', (e: Error) => logger.debug({ err: e }, 'ssh channel error'));
    void runExec(session, channel, info.command, ctx);
  });
}
