/**
 * `farm up`, run: start the farm (farm-up.ts), print where it listens, run until SIGINT or
 * SIGTERM, then stop it. Loaded by commands/up.ts when the command runs, so that the coordinator
 * and agent packages are not loaded for every other `farm` command.
 */
import type { Writable } from 'node:stream';
import { isFarmError } from '@farm/common';
import { defaultStateDir } from '../client/address.js';
import { defaultAgentCount, defaultMaxJobs, farmUp, HOST_SANDBOX_PATHS } from './farm-up.js';
import { untilSignal } from './until-signal.js';

export interface UpFlags {
  readonly stateDir: string | undefined;
  readonly agents: number | undefined;
  readonly maxJobs: number | undefined;
  readonly listen: string;
  readonly natsPort: number | undefined;
  readonly nats: string | undefined;
  readonly sandboxPaths: readonly string[] | undefined;
  readonly emulation: 'auto' | 'binfmt' | 'qemu' | 'off';
  readonly sshListen: string;
  readonly cacheListen: string;
  readonly opsListen: string;
  readonly traceUrl: string | undefined;
  readonly json: boolean;
}

export async function runFarmUp(flags: UpFlags, io: { stdout: Writable; stderr: Writable }): Promise<number> {
  const fail = (message: string): number => {
    io.stderr.write(`farm up: ${message}\n`);
    return 1;
  };
  const stateDir = flags.stateDir ?? defaultStateDir(process.env);
  const agents = flags.agents ?? defaultAgentCount();
  if (!Number.isInteger(agents) || agents < 1 || agents > 64) return fail('--agents must be a whole number from 1 to 64');
  const maxJobs = flags.maxJobs ?? defaultMaxJobs(agents);
  if (!Number.isInteger(maxJobs) || maxJobs < 1) return fail('--max-jobs must be a whole number of at least 1');
  const natsPort = flags.natsPort ?? 0;
  const say = (line: string): void => void io.stderr.write(`${line}\n`);
  const signalled = untilSignal();
  let farm;
  try {
    say(`farm up: starting in ${stateDir}`);
    farm = await farmUp({ stateDir, agents, maxJobs, listen: flags.listen, natsPort, natsUrl: flags.nats, sandboxPaths: flags.sandboxPaths ?? HOST_SANDBOX_PATHS, emulation: flags.emulation, sshListen: flags.sshListen, cacheListen: flags.cacheListen, opsListen: flags.opsListen, traceUrl: flags.traceUrl, say });
  } catch (e) {
    return fail(isFarmError(e) ? e.message : String((e as Error).stack ?? e));
  }
  if (flags.json) {
    io.stdout.write(`${JSON.stringify({ event: 'ready', stateDir, grpc: farm.grpcAddress, nats: farm.natsUrl, agents: farm.agentNames, maxJobs, door: farm.door, ops: farm.opsUrl, agentMetrics: farm.agentMetrics })}\n`);
  }
  say(`  coordinator  ${farm.grpcAddress} (gRPC)`);
  say(`  nats         ${farm.natsUrl} (JetStream)`);
  say(`  agents       ${farm.agentNames.join(', ')} (${maxJobs} job${maxJobs === 1 ? '' : 's'} each; \`farm agents\` shows what they offer)`);
  say(`  nix door     remote-program=farm-nix-stdio (socket ${farm.door.socket})`);
  if (farm.door.ssh !== undefined) {
    const [host, port] = [farm.door.ssh.slice(0, farm.door.ssh.lastIndexOf(':')), farm.door.ssh.slice(farm.door.ssh.lastIndexOf(':') + 1)];
    say(`  ssh          ${farm.door.ssh}: builders = ssh-ng://farm@${host} … with NIX_SSHOPTS='-p ${port}'; keys in ${farm.door.authorizedKeys ?? '?'}`);
  }
  if (farm.door.cache !== undefined) say(`  cache        ${farm.door.cache} (trusted-public-keys = ${farm.door.cacheKey ?? '?'})`);
  if (farm.opsUrl !== undefined) say(`  dashboard    ${farm.opsUrl}/ (Prometheus metrics at ${farm.opsUrl}/metrics)`);
  for (const [name, url] of Object.entries(farm.agentMetrics)) say(`  metrics      ${url} (agent ${name})`);
  say(`  addresses    ${stateDir}/address.json`);
  say(`  logs         ${stateDir}/logs/`);
  say('farm up: ready — try `farm submit ./examples/dag#all`; Ctrl-C stops everything');
  const sig = await signalled;
  say(`farm up: ${sig}, stopping`);
  await farm.stop();
  if (flags.json) io.stdout.write(`${JSON.stringify({ event: 'stopped' })}\n`);
  say('farm up: stopped');
  return 0;
}
