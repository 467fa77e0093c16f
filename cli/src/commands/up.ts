/**
 * `farm up`: the whole farm on this machine (NATS + coordinator + local agents) in one command.
 */
import { Command, Option } from 'clipanion';
import * as t from 'typanion';
import { isFarmError } from '@farm/common';
import { defaultStateDir } from '../client/address.js';
import { defaultAgentCount, defaultMaxJobs, farmUp, HOST_SANDBOX_PATHS } from '../daemons/farm-up.js';
import { untilSignal } from '../daemons/until-signal.js';

export class UpCommand extends Command {
  static override paths = [['up']];
  static override usage = Command.Usage({
    category: 'Farm',
    description: 'run the whole farm on this machine: NATS, the coordinator and local agents',
    details: `
      Starts a \`nats-server\` with JetStream, the coordinator (its LMDB state and store) and local agents
      offering every system and feature this host can serve, all under one state directory. Prints the
      addresses and writes them to \`<state-dir>/address.json\`, where \`farm submit\`, \`farm logs\`,
      \`farm status\`, \`farm agents\` and \`farm cancel\` on this machine find them without flags.

      Ctrl-C (or SIGTERM) stops everything cleanly; running \`farm up\` again with the same state
      directory resumes with the same state: submissions that were not finished carry on.

      The state directory defaults to \`$FARM_STATE_DIR\`, else \`$XDG_STATE_HOME/farm\`, else
      \`~/.local/state/farm\`. Logs of every part are in \`<state-dir>/logs/\`.

      Agents bind \`--sandbox-path\` host paths read-only into every build (default: ${HOST_SANDBOX_PATHS.join(' ')},
      which the examples' /bin/sh builders need).
    `,
    examples: [
      ['Start the farm with the defaults', '$0 up'],
      ['Four agents of two jobs each, in a given directory', '$0 up --agents 4 --max-jobs 2 --state-dir /var/lib/farm'],
      ['Machine-readable addresses on stdout once ready', '$0 up --json'],
    ],
  });

  stateDir = Option.String('--state-dir', { description: 'where state, store and logs live (default: $FARM_STATE_DIR or ~/.local/state/farm)' });
  agents = Option.String('--agents', { description: `number of local agents (default ${defaultAgentCount()})`, validator: t.isNumber() });
  maxJobs = Option.String('--max-jobs', { description: 'builds each agent runs at once (default: CPUs / agents)', validator: t.isNumber() });
  listen = Option.String('--listen', '127.0.0.1:0', { description: 'gRPC listen address of the coordinator (port 0 picks a free one)' });
  natsPort = Option.String('--nats-port', { description: 'port of the embedded nats-server (default: a free one)', validator: t.isNumber() });
  nats = Option.String('--nats', { description: 'use this NATS server (nats://host:port, with JetStream) instead of starting one' });
  sandboxPaths = Option.Array('--sandbox-path', { description: 'host path bound into every build (repeatable; PATH, TARGET=SOURCE, optional with a trailing ?)' });
  json = Option.Boolean('--json', false, { description: 'print one JSON line with the addresses when ready, and one when stopped' });

  async execute(): Promise<number> {
    const stateDir = this.stateDir ?? defaultStateDir(process.env);
    const agents = this.agents ?? defaultAgentCount();
    if (!Number.isInteger(agents) || agents < 1 || agents > 64) return this.fail('--agents must be a whole number from 1 to 64');
    const maxJobs = this.maxJobs ?? defaultMaxJobs(agents);
    if (!Number.isInteger(maxJobs) || maxJobs < 1) return this.fail('--max-jobs must be a whole number of at least 1');
    const natsPort = this.natsPort ?? 0;
    const say = (line: string): void => void this.context.stderr.write(`${line}\n`);
    const signalled = untilSignal();
    let farm;
    try {
      say(`farm up: starting in ${stateDir}`);
      farm = await farmUp({ stateDir, agents, maxJobs, listen: this.listen, natsPort, natsUrl: this.nats, sandboxPaths: this.sandboxPaths ?? HOST_SANDBOX_PATHS, say });
    } catch (e) {
      return this.fail(isFarmError(e) ? e.message : String((e as Error).stack ?? e));
    }
    if (this.json) {
      this.context.stdout.write(`${JSON.stringify({ event: 'ready', stateDir, grpc: farm.grpcAddress, nats: farm.natsUrl, agents: farm.agentNames, maxJobs })}\n`);
    }
    say(`  coordinator  ${farm.grpcAddress} (gRPC)`);
    say(`  nats         ${farm.natsUrl} (JetStream)`);
    say(`  agents       ${farm.agentNames.join(', ')} (${maxJobs} job${maxJobs === 1 ? '' : 's'} each; \`farm agents\` shows what they offer)`);
    say(`  addresses    ${stateDir}/address.json`);
    say(`  logs         ${stateDir}/logs/`);
    say('farm up: ready — try `farm submit ./examples/dag#all`; Ctrl-C stops everything');
    const sig = await signalled;
    say(`farm up: ${sig}, stopping`);
    await farm.stop();
    if (this.json) this.context.stdout.write(`${JSON.stringify({ event: 'stopped' })}\n`);
    say('farm up: stopped');
    return 0;
  }

  private fail(message: string): number {
    this.context.stderr.write(`farm up: ${message}\n`);
    return 1;
  }
}
