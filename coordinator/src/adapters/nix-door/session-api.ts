/**
 * The Nix door's contract with its transports (the SSH gateway, the gRPC NixSession stream):
 * a transport authenticates a principal, works out which protocol was asked for
 * (`parseDoorCommand`) and hands the session's byte streams to `NixDoor.run`, which speaks Nix's
 * serve or worker protocol over them against the farm until the client closes stdin.
 */
import type { Readable, Writable } from 'node:stream';
import type { DoorClient } from '../../service/door-builds.js';

/** `nix-store --serve` (read-only), `nix-store --serve --write`, `nix-daemon --stdio`. */
export type NixSessionMode = 'serve' | 'serve-write' | 'worker';

export const NIX_SESSION_MODES: readonly NixSessionMode[] = ['serve', 'serve-write', 'worker'];

/**
 * Who is on the other end of a session, and what they may do (per-key settings): the name (the
 * key's name, or the gRPC / socket client), the systems it may build for (undefined = all) and its
 * concurrent builds (undefined = the farm's default). The same record the door's builds use.
 */
export type DoorPrincipal = DoorClient;

export interface NixSessionStreams {
  /** The client's bytes (ssh channel stdin / gRPC stdin messages); its end is the session's end. */
  readonly input: Readable;
  /** Protocol bytes to the client (stdout). */
  readonly output: Writable;
  /** Text for the client's terminal (stderr): the build log of serve sessions, and errors. */
  readonly log: Writable;
  /** Aborted when the transport goes away (client disconnected, coordinator shutting down). */
  readonly signal: AbortSignal;
}

export interface NixDoor {
  /**
   * Runs one session to its end. Resolves with the exit status the transport reports to the
   * client: 0 after a clean end (the client closed stdin between requests), 1 after an error
   * (already written to `log`). Never rejects.
   */
  run(mode: NixSessionMode, principal: DoorPrincipal, streams: NixSessionStreams): Promise<number>;
}
