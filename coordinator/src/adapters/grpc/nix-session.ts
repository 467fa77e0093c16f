/**
 * The NixSession RPC (`farm nix-stdio`): a bidirectional stream carrying one Nix protocol
 * session. The first client message opens it (mode, client name); later ones are stdin bytes and
 * the end of the client's stream is stdin's EOF. Protocol bytes go back as `stdout`, log text as
 * `stderr`, and the exit status ends the call. The session itself is the NixDoor's; this file only
 * turns the stream into the three byte streams a door session reads and writes.
 */
import { PassThrough, Writable } from 'node:stream';
import type { ServerDuplexStream } from '@grpc/grpc-js';
import { FarmError } from '@farm/common';
import type { NixSessionInput__Output, NixSessionOutput } from '@farm/proto';
import { NIX_SESSION_MODES, type NixDoor, type NixSessionMode } from '../nix-door/session-api.js';

export type NixSessionCall = ServerDuplexStream<NixSessionInput__Output, NixSessionOutput>;

/** Writes `kind` messages to the call, honouring its backpressure. */
function sink(call: NixSessionCall, kind: 'stdout' | 'stderr'): Writable {
  return new Writable({
    write(chunk: Buffer, _enc, done) {
      if (call.cancelled || call.destroyed) return done();
      if (call.write({ [kind]: chunk })) done();
      else call.once('drain', () => done());
    },
  });
}

export async function serveNixSession(call: NixSessionCall, door: NixDoor, signal: AbortSignal, defaultClient: string): Promise<void> {
  // Not `for await`/[Symbol.asyncIterator]: finishing that iterator destroys the whole duplex
  // stream, so nothing could be written after the client's stdin ends (its half-close).
  const it = call.iterator({ destroyOnReturn: false }) as AsyncIterator<NixSessionInput__Output>;
  const first = await it.next();
  if (first.done === true || first.value.kind !== 'open' || first.value.open === null || first.value.open === undefined) {
    throw new FarmError('INVALID_ARGUMENT', 'NixSession must start with an open message naming the mode');
  }
  const mode = first.value.open.mode as NixSessionMode;
  if (!NIX_SESSION_MODES.includes(mode)) throw new FarmError('INVALID_ARGUMENT', `unknown NixSession mode '${first.value.open.mode}' (expected ${NIX_SESSION_MODES.join(', ')})`);
  const client = first.value.open.client.slice(0, 256) || defaultClient;
  const input = new PassThrough();
  void (async () => {
    try {
      for (;;) {
        const r = await it.next();
        if (r.done === true) break;
        if (r.value.kind !== 'stdin') continue;
        if (!input.write(r.value.stdin)) await new Promise((resolve) => input.once('drain', resolve));
      }
    } catch {
      // the client went away: the session sees its input end
    }
    input.end();
  })();
  const output = sink(call, 'stdout');
  const log = sink(call, 'stderr');
  const status = await door.run(mode, { name: client }, { input, output, log, signal });
  await Promise.all([new Promise<void>((r) => output.end(r)), new Promise<void>((r) => log.end(r))]);
  if (!call.cancelled) call.write({ exitStatus: status });
}
