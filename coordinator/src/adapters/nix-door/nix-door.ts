/**
 * The Nix door: runs a serve or worker session (the mode the transport parsed) and turns its
 * end into an exit status. Anything a session throws — malformed protocol bytes, a refused
 * upload, the client vanishing — ends that session only, with a one-line message on its stderr
 * (`farm: error: …`), never the coordinator.
 */
import type { Logger } from '@farm/common';
import type { DoorContext } from './door-context.js';
import { runServeSession } from './serve-session.js';
import type { DoorPrincipal, NixDoor, NixSessionMode, NixSessionStreams } from './session-api.js';
import { runWorkerSession } from './worker-session.js';

export function createNixDoor(ctx: DoorContext): NixDoor {
  return {
    async run(mode: NixSessionMode, principal: DoorPrincipal, io: NixSessionStreams): Promise<number> {
      const log: Logger = ctx.logger.child({ principal: principal.name, mode });
      const started = Date.now();
      try {
        if (mode === 'worker') await runWorkerSession(ctx, principal, io);
        else await runServeSession(ctx, mode === 'serve-write', principal, io);
        log.debug({ ms: Date.now() - started }, 'door session ended');
        return 0;
      } catch (e) {
        const message = e instanceof Error ? e.message : String(e);
        if (!io.signal.aborted) {
          log.info({ err: e, ms: Date.now() - started }, 'door session failed');
          if (!io.log.destroyed) io.log.write(`farm: error: ${message}\n`);
        }
        return 1;
      }
    },
  };
}
