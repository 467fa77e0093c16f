/**
 * The byte relay behind `farm nix-stdio`: stdin → NixSession stdin messages (stdin's end = the
 * end of our half of the stream), stdout/stderr messages → our stdout/stderr, and the session's
 * exit status as ours. Backpressure both ways: stdin is paused while the gRPC stream is full, the
 * stream waits for stdout to drain.
 */
import { once } from 'node:events';
import type { Readable, Writable } from 'node:stream';
import { farmErrorFromGrpc, type GrpcErrorLike } from '@farm/common';
import type { NixSessionOutput__Output } from '@farm/proto';
import type { FarmClient } from './coordinator-client.js';
import { clientIdentity } from './identity.js';

export interface NixStdioOptions {
  readonly mode: 'serve' | 'serve-write' | 'worker';
  readonly stdin: Readable;
  readonly stdout: Writable;
  readonly stderr: Writable;
  readonly env: Readonly<Record<string, string | undefined>>;
}

export async function runNixStdio(client: FarmClient, options: NixStdioOptions): Promise<number> {
  const call = client.nixSession();
  call.write({ open: { mode: options.mode, client: clientIdentity(options.env) } });
  // Runs beside the reading loop below; it ends with stdin (or when the call fails).
  void (async () => {
    for await (const chunk of options.stdin as AsyncIterable<Buffer>) {
      if (!call.write({ stdin: chunk })) await once(call, 'drain');
    }
    call.end();
  })().catch(() => call.end());
  let status: number | undefined;
  try {
    for await (const msg of call as AsyncIterable<NixSessionOutput__Output>) {
      if (msg.kind === 'stdout') {
        if (!options.stdout.write(msg.stdout)) await once(options.stdout, 'drain');
      } else if (msg.kind === 'stderr') {
        options.stderr.write(msg.stderr);
      } else if (msg.kind === 'exitStatus') {
        status = msg.exitStatus;
      }
    }
  } catch (e) {
    const err = farmErrorFromGrpc(e as GrpcErrorLike);
    options.stderr.write(`farm nix-stdio: ${err.message}\n`);
    return 1;
  }
  // The session is over: stop reading stdin (Nix keeps it open until it sees our exit).
  options.stdin.destroy();
  return status ?? 1;
}
