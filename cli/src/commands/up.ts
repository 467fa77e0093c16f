/**
 * `farm up`: the whole farm on this machine (NATS + coordinator + local agents) in one command.
 */
import { Command, Option } from 'clipanion';
import * as t from 'typanion';
import { defaultAgentCount, HOST_SANDBOX_PATHS } from '../daemons/farm-up-defaults.js';

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

      On an x86_64 host with qemu-user (Debian: qemu-user-static), an aarch64-linux agent starts beside the
      native ones and builds the aarch64-linux derivations: through binfmt_misc when the kernel has an entry
      for aarch64 executables, else by starting aarch64 builders under \`qemu-aarch64-static\` itself. The
      native agents then offer only the native system. \`--emulation off\` starts no emulated agent.

      The Nix door: \`cli/bin/farm-nix-stdio\` as a \`remote-program\` reaches this farm through a local socket
      (\`builders = ssh-ng://localhost?remote-program=…/farm-nix-stdio …\`), an SSH endpoint (\`--ssh-listen\`) takes the
      public keys of its authorized_keys file (seeded from ~/.ssh/*.pub when first created), and a signed binary
      cache serves the farm store over HTTP (\`--cache-listen\`; \`farm cache key\` prints its public key). See docs/nix-door.md.

      Operators: \`--ops-listen\` serves a live dashboard at \`/\` and Prometheus metrics at \`/metrics\` (docs/observability.md);
      with \`--trace-url\` the dashboard links each traced submission to that tracing UI.

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
  emulation = Option.String('--emulation', 'auto', {
    description: 'emulated agents: auto (one per system qemu-user emulates here, e.g. aarch64-linux), binfmt, qemu (insist on that way), off',
    validator: t.isEnum(['auto', 'binfmt', 'qemu', 'off'] as const),
  });
  sshListen = Option.String('--ssh-listen', '127.0.0.1:0', { description: "the Nix door's SSH endpoint (host:port; port 0 picks a free one; 'off' starts none)" });
  cacheListen = Option.String('--cache-listen', '127.0.0.1:0', { description: "the binary cache over HTTP (host:port; 'off' starts none)" });
  opsListen = Option.String('--ops-listen', '127.0.0.1:0', { description: "the dashboard and Prometheus /metrics over HTTP (host:port; 'off' starts none)" });
  traceUrl = Option.String('--trace-url', { description: "the dashboard links each submission's trace here: a tracing UI's trace page with {traceId} in it, e.g. http://localhost:16686/trace/{traceId}" });
  json = Option.Boolean('--json', false, { description: 'print one JSON line with the addresses when ready, and one when stopped' });

  async execute(): Promise<number> {
    const { runFarmUp } = await import('../daemons/up-command-run.js');
    return runFarmUp(this, this.context);
  }
}
