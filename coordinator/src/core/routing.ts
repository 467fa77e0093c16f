/**
 * Routing: which connected agents can ever build a job, and why none can. A job's routing
 * needs are its `system` and `requiredSystemFeatures`; jobs with equal needs share a *bucket*,
 * so the fit of an agent is computed once per (agent, bucket), not per job.
 *
 * The fit rule is Nix's own (spec §8.3, `isMachineEligible` in @farm/nix): the agent lists the
 * system, offers every required feature (supported or mandatory), and every mandatory feature
 * of the agent is required by the job. O(agents × features) per bucket.
 */
import { isMachineEligible, type Machine } from '@farm/nix';

export interface RoutingNeeds {
  readonly system: string;
  readonly requiredFeatures: readonly string[];
}

export interface AgentCapabilities {
  readonly systems: readonly string[];
  readonly supportedFeatures: readonly string[];
  readonly mandatoryFeatures: readonly string[];
  readonly maxJobs: number;
  readonly speedFactor: number;
  /** Systems the agent emulates → how (informational, for `farm agents`; routing ignores it). */
  readonly emulated?: Readonly<Record<string, string>>;
}

/** The bucket key: system plus the sorted, deduplicated features. */
export function bucketKey(needs: RoutingNeeds): string {
  const features = [...new Set(needs.requiredFeatures)].sort();
  return features.length === 0 ? needs.system : `${needs.system}|${features.join(',')}`;
}

export function asMachine(agentId: string, caps: AgentCapabilities): Machine {
  return {
    storeUri: `farm://${agentId}`,
    systems: caps.systems,
    maxJobs: caps.maxJobs,
    speedFactor: Math.max(1, caps.speedFactor),
    supportedFeatures: [...new Set(caps.supportedFeatures)].sort(),
    mandatoryFeatures: [...new Set(caps.mandatoryFeatures)].sort(),
  };
}

export function agentFits(caps: AgentCapabilities, needs: RoutingNeeds): boolean {
  return isMachineEligible(asMachine('fit', caps), { system: needs.system, requiredFeatures: needs.requiredFeatures });
}

/**
 * Why no connected agent can build a job, naming what is missing — shown to users as
 * "waiting for capacity", never a silent hang. Undefined when some agent fits.
 */
export function capacityProblem(needs: RoutingNeeds, agents: readonly AgentCapabilities[]): string | undefined {
  if (agents.some((a) => agentFits(a, needs))) return undefined;
  const required = [...new Set(needs.requiredFeatures)].sort();
  const features = required.length > 0 ? ` with features {${required.join(', ')}}` : '';
  if (agents.length === 0) return `waiting for capacity: no agent is connected (needs ${needs.system}${features})`;
  const forSystem = agents.filter((a) => a.systems.includes(needs.system));
  if (forSystem.length === 0) {
    const offered = [...new Set(agents.flatMap((a) => a.systems))].sort().join(', ');
    return `waiting for capacity: no connected agent builds for system '${needs.system}' (connected agents offer: ${offered})`;
  }
  const missingEverywhere = required.filter((f) => !forSystem.some((a) => a.supportedFeatures.includes(f) || a.mandatoryFeatures.includes(f)));
  if (missingEverywhere.length > 0) {
    return `waiting for capacity: no connected agent for ${needs.system} offers feature${missingEverywhere.length > 1 ? 's' : ''} {${missingEverywhere.join(', ')}}`;
  }
  const mandatory = [...new Set(forSystem.flatMap((a) => a.mandatoryFeatures.filter((f) => !required.includes(f))))].sort();
  return `waiting for capacity: the agents for ${needs.system} that offer {${required.join(', ')}} only take jobs that require {${mandatory.join(', ')}}`;
}
