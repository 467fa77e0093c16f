/**
 * One SSH session channel as the three byte streams a door session reads and writes, plus the
 * abort signal. The door never touches the channel itself: with ssh2, ending a server channel
 * sends EOF *and* CLOSE at once, after which no exit status can be sent, so `output` and `log`
 * are sinks whose end() does nothing and the gateway ends the channel after the exit status.
 *
 * Input: ssh2 ends a channel's readable side both on the client's EOF and when the channel or
 * the whole connection goes away. Only the first is the clean end of a session; the others abort
 * the signal *before* the door sees its input end, so a vanished client is never mistaken for
 * one that finished.
 */
import { PassThrough, Writable, type Readable } from 'node:stream';
import type { ServerChannel, Session } from 'ssh2';
import type { NixSessionStreams } from '../nix-door/session-api.js';

export interface ChannelStreams extends NixSessionStreams {
  readonly input: Readable;
  readonly output: Writable;
  readonly log: Writable;
  readonly signal: AbortSignal;
  /** Aborts the session (connection closed, gateway shutting down); idempotent. */
  abort(reason: string): void;
  /** Resolves once everything written to output and log was handed to the channel (or the session was aborted). */
  flushed(): Promise<void>;
}

/** Forwards writes to `target`, completing each once the channel took it (SSH window backpressure). */
function sink(target: Writable, aborted: () => boolean): Writable {
  return new Writable({
    write(chunk: Buffer, _enc, done) {
      // After an abort the channel may be gone and would never call back.
      if (aborted()) return done();
      target.write(chunk, () => done());
    },
    final(done) {
      done();
    },
  });
}

function ended(w: Writable, signal: AbortSignal): Promise<void> {
  if (w.writableFinished || signal.aborted) return Promise.resolve();
  return new Promise<void>((resolve) => {
    const finish = () => {
      signal.removeEventListener('abort', finish);
      resolve();
    };
    w.end(finish);
    signal.addEventListener('abort', finish, { once: true });
  });
}

export function channelStreams(session: Session, channel: ServerChannel): ChannelStreams {
  const controller = new AbortController();
  const input = new PassThrough();
  const endInput = () => {
    channel.unpipe(input);
    if (!input.writableEnded) input.end();
  };
  // Signal first, then the input's end: a door blocked reading stdin wakes up and sees why.
  const abort = (reason: string) => {
    if (!controller.signal.aborted) controller.abort(new Error(reason));
    endInput();
  };
  const aborted = () => controller.signal.aborted;

  let sawEof = false;
  session.once('eof', () => {
    sawEof = true;
  });
  channel.pipe(input, { end: false });
  channel.once('end', () => {
    if (!sawEof) abort('the client closed the channel without ending its input');
    endInput();
  });
  // The Session (not the channel) reports the client's CLOSE at once; the channel's own 'close'
  // waits until its input was read, which a door that stopped reading never does.
  session.once('close', () => {
    if (!sawEof) abort('the client closed the channel');
  });

  const output = sink(channel, aborted);
  const log = sink(channel.stderr, aborted);
  // A door that misuses a stream (writes after end, destroys its input) must not crash the
  // coordinator with an unhandled 'error'; the session's status says what happened.
  for (const s of [input, output, log, channel.stderr]) s.on('error', () => {});
  return {
    input,
    output,
    log,
    signal: controller.signal,
    abort,
    flushed: async () => {
      await Promise.all([ended(output, controller.signal), ended(log, controller.signal)]);
    },
  };
}
