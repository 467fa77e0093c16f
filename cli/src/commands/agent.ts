/**
 * `farm agent --config FILE`: the build agent daemon for a build host.
 */
import { Command, Option } from 'clipanion';

export class AgentCommand extends Command {
  static override paths = [['agent']];
  static override usage = Command.Usage({
    category: 'Farm',
    description: 'run a build agent daemon on this host',
    details: `
      Registers with the coordinator over NATS, advertises what this host can build (systems,
      supported and mandatory features, max jobs, speed factor), pulls work, builds each job in a
      bubblewrap sandbox shaped like Nix's, streams its log and uploads its outputs.

      The config file is JSON. Keys: \`name\` (unique; default from the host name), \`stateDir\`
      (required: local store and scratch space), \`coordinator\` (gRPC "host:port", required),
      \`nats.servers\`, \`maxJobs\` (default: CPUs), \`cores\` (per build, 0 = all), \`speedFactor\` (1),
      \`systems\`, \`supportedFeatures\`, \`mandatoryFeatures\` (default: detected on this host),
      \`sandboxPaths\` (host paths bound read-only into builds), \`logLevel\`, \`inlineOutputs\` (default
      true: outputs of at most 64 KiB travel with the build result instead of separate uploads).
      Unknown keys are errors.
      Flags override the file.
    `,
    examples: [['Run with a config file', '$0 agent --config /etc/farm/agent.json']],
  });

  config = Option.String('--config', { description: 'JSON config file' });
  name = Option.String('--name', { description: 'overrides name' });
  stateDir = Option.String('--state-dir', { description: 'overrides stateDir' });
  coordinator = Option.String('--coordinator', { description: 'overrides coordinator (gRPC host:port)' });
  nats = Option.String('--nats', { description: 'overrides nats.servers (comma-separated URLs)' });

  async execute(): Promise<number> {
    const { runAgentDaemon } = await import('../daemons/agent-daemon.js');
    return runAgentDaemon({ configFile: this.config, overrides: { name: this.name, stateDir: this.stateDir, coordinator: this.coordinator, nats: this.nats }, stderr: this.context.stderr });
  }
}
