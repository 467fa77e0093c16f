/**
 * What every command that talks to a coordinator shares: `--coordinator` and `--state-dir`,
 * discovery (see address.ts), one FarmClient per run that is always closed, and errors printed
 * as one line `farm <command>: <message>` with exit status 1.
 */
import { Command, Option } from 'clipanion';
import { isFarmError } from '@farm/common';
import { discoverCoordinator } from './address.js';
import { FarmClient } from './coordinator-client.js';

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
      client = new FarmClient(discoverCoordinator({ flag: this.coordinator, stateDir: this.stateDir, env: this.context.env }));
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

  protected writeJson(value: unknown): void {
    this.context.stdout.write(`${JSON.stringify(value)}\n`);
  }

  private commandName(): string {
    const path = this.path.length > 0 ? this.path.join(' ') : 'farm';
    return path.startsWith('farm') ? path : `farm ${path}`;
  }
}

export function errorMessage(e: unknown): string {
  if (isFarmError(e)) return e.message;
  if (e instanceof Error) return e.message;
  return String(e);
}
