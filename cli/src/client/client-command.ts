/**
 * What every command that talks to a coordinator shares: `--coordinator` and `--state-dir`,
 * discovery (see address.ts), one FarmClient per run that is always closed, and errors printed
 * as one line `farm <command>: <message>` with exit status 1.
 *
 * Registration of every command loads this file, so it imports only clipanion: discovery and
 * the gRPC client (grpc-js, protobufjs) are loaded by `withClient` when a command runs.
 */
import { Command, Option } from 'clipanion';
import type { FarmClient } from './coordinator-client.js';

export abstract class ClientCommand extends Command {
  coordinator = Option.String('--coordinator', {
    description: 'the coordinator as host:port (default: $FARM_COORDINATOR, else address.json in the state dir)',
  });

  stateDir = Option.String('--state-dir', {
    description: 'where `farm up` wrote address.json (default: $FARM_STATE_DIR, $XDG_STATE_HOME/farm or ~/.local/state/farm)',
  });

  /** Runs `body` with a connected client; any error becomes one stderr line and status 1. */
  protected async withClient(body: (client: FarmClient) => Promise<number>): Promise<number> {
    let client: FarmClient | undefined;
    try {
      // Discovery first: "no farm found" is reported without loading the gRPC stack.
      const { discoverCoordinator } = await import('./address.js');
      const address = discoverCoordinator({ flag: this.coordinator, stateDir: this.stateDir, env: this.context.env });
      const { FarmClient } = await import('./coordinator-client.js');
      client = new FarmClient(address);
      return await body(client);
    } catch (e) {
      return this.fail(e);
    } finally {
      client?.close();
    }
  }

  protected fail(e: unknown): number {
    this.context.stderr.write(`${this.commandName()}: ${errorMessage(e)}\n`);
    return 1;
  }

  private commandName(): string {
    const path = this.path.length > 0 ? this.path.join(' ') : 'farm';
    return path.startsWith('farm') ? path : `farm ${path}`;
  }
}

/** A FarmError is an Error, so its message is what is printed; anything else is stringified. */
export function errorMessage(e: unknown): string {
  if (e instanceof Error) return e.message;
  return String(e);
}
