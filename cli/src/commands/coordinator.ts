/**
 * `farm coordinator --config FILE`: the coordinator daemon, for real deployments.
 */
import { Command, Option } from 'clipanion';

export class CoordinatorCommand extends Command {
  static override paths = [['coordinator']];
  static override usage = Command.Usage({
    category: 'Farm',
    description: 'run the coordinator daemon',
    details: `
      Serves the farm's gRPC API and talks to agents over NATS (JetStream must be enabled on the
      NATS server). State (LMDB) and the farm store live in \`stateDir\`.

      The config file is JSON. Keys: \`stateDir\` (required), \`listen\` ("host:port", default
      "127.0.0.1:0"), \`nats.servers\` (default ["nats://127.0.0.1:4222"]), \`leaseMs\` (default "12s"),
      \`heartbeatMs\` ("3s"), \`maxAttempts\` (3), \`retryBackoffMs\` ("1s", doubling per retry up to
      \`retryBackoffMaxMs\`, "1m"), \`poisonAgents\` (3: a job that fails on that many distinct agents is
      not retried), \`failureTtlMs\` ("1h": how long a build failure is reused), \`maxLogBytes\` (64 MiB),
      \`defaultTimeoutMs\` and \`defaultMaxSilentMs\` (0 = none), \`logLevel\` ("info"). Durations accept
      "500ms", "15s", "2m", "1h".

      The Nix door (docs/nix-door.md): \`door.maxBuildsPerClient\` (16), \`door.maxUploadBytes\` (2 GiB),
      \`door.socket\` (<stateDir>/nix-door.sock, for farm-nix-stdio); \`ssh.listen\` ("host:port"; no SSH
      endpoint without it), \`ssh.hostKeyFile\`, \`ssh.authorizedKeysFile\`, \`ssh.keys\` (per key name or
      SHA256 fingerprint: {"systems": [...], "maxBuilds": N}); \`cache.listen\` (no binary cache without it),
      \`cache.keyName\` ("farm-1"), \`cache.secretKeyFile\`, \`cache.compression\`, \`cache.priority\` (40).

      Operators (docs/observability.md): \`ops.listen\` ("host:port"; the live dashboard at / and Prometheus
      metrics at /metrics; none without it).
      Unknown keys are errors. Flags override the file.
    `,
    examples: [
      ['Run with a config file', '$0 coordinator --config /etc/farm/coordinator.json'],
      ['Without a file', '$0 coordinator --state-dir /var/lib/farm --listen 0.0.0.0:7420 --nats nats://nats:4222'],
    ],
  });

  config = Option.String('--config', { description: 'JSON config file' });
  stateDir = Option.String('--state-dir', { description: 'overrides stateDir' });
  listen = Option.String('--listen', { description: 'overrides listen (host:port)' });
  nats = Option.String('--nats', { description: 'overrides nats.servers (comma-separated URLs)' });

  async execute(): Promise<number> {
    const { runCoordinatorDaemon } = await import('../daemons/coordinator-daemon.js');
    return runCoordinatorDaemon({ configFile: this.config, overrides: { stateDir: this.stateDir, listen: this.listen, nats: this.nats }, stderr: this.context.stderr });
  }
}
