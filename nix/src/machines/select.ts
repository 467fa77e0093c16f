/**
 * The build hook's machine choice (spec §8.3; Nix 2.8 src/build-remote/build-remote.cc), as a
 * pure function of the machines, their current loads and the derivation's needs.
 *
 * Eligible: enabled, system matches (or the derivation is `builtin`), every required feature is
 * supported or mandatory, every mandatory feature is required. Among eligible machines with a
 * free slot (load < maxJobs) the best has the lowest floor(load / speedFactor), then the higher
 * speedFactor, then the lower load; on a full tie the earlier machine in the list wins. With no
 * free eligible machine the answer is `postpone` if some machine was eligible and the derivation
 * cannot be built locally, else `decline`; with no machines at all, `decline-permanently`.
 * O(machines × features).
 */
import type { Machine } from './parse.js';

export interface MachineSlotState {
  readonly machine: Machine;
  /** Occupied build slots on this machine (Nix counts locked slot files). */
  readonly load: number;
  /** False once connecting to it failed in this hook process. Default true. */
  readonly enabled?: boolean;
}

export interface BuildNeeds {
  /** The derivation's `system`, or `builtin` for builtin:… builders. */
  readonly system: string;
  readonly requiredFeatures: Iterable<string>;
}

export type MachineChoice =
  | { readonly kind: 'accept'; readonly index: number; readonly machine: Machine }
  | { readonly kind: 'postpone' }
  | { readonly kind: 'decline' }
  | { readonly kind: 'decline-permanently' };

export function supportsSystem(machine: Machine, system: string): boolean {
  return system === 'builtin' || machine.systems.includes(system);
}

/** Every required feature is supported or mandatory on the machine. */
export function allFeaturesSupported(machine: Machine, required: Iterable<string>): boolean {
  for (const f of required) if (!machine.supportedFeatures.includes(f) && !machine.mandatoryFeatures.includes(f)) return false;
  return true;
}

/** Every mandatory feature of the machine is asked for by the derivation. */
export function mandatoryFeaturesMet(machine: Machine, required: Iterable<string>): boolean {
  const req = new Set(required);
  return machine.mandatoryFeatures.every((f) => req.has(f));
}

/** Conditions 2–4 of spec §8.3 (the machine's static fitness; `enabled` is checked by chooseMachine). */
export function isMachineEligible(machine: Machine, needs: BuildNeeds): boolean {
  const required = [...needs.requiredFeatures];
  return supportsSystem(machine, needs.system) && allFeaturesSupported(machine, required) && mandatoryFeaturesMet(machine, required);
}

export function chooseMachine(states: readonly MachineSlotState[], needs: BuildNeeds, canBuildLocally: boolean): MachineChoice {
  if (states.length === 0) return { kind: 'decline-permanently' };
  let rightType = false;
  let best: { index: number; state: MachineSlotState } | undefined;
  states.forEach((state, index) => {
    if (state.enabled === false || !isMachineEligible(state.machine, needs)) return;
    rightType = true;
    if (!(state.load < state.machine.maxJobs)) return;
    if (best === undefined || isBetter(state, best.state)) best = { index, state };
  });
  if (best !== undefined) return { kind: 'accept', index: best.index, machine: best.state.machine };
  return rightType && !canBuildLocally ? { kind: 'postpone' } : { kind: 'decline' };
}

function isBetter(a: MachineSlotState, b: MachineSlotState): boolean {
  // Integer division, as Nix 2.8 divides a u64 load by an unsigned speed factor.
  const qa = Math.floor(a.load / a.machine.speedFactor);
  const qb = Math.floor(b.load / b.machine.speedFactor);
  if (qa !== qb) return qa < qb;
  if (a.machine.speedFactor !== b.machine.speedFactor) return a.machine.speedFactor > b.machine.speedFactor;
  return a.load < b.load;
}

export interface LocalBuildCapability {
  /** Nix has a free local build slot (false with max-jobs = 0). */
  readonly amWilling: boolean;
  readonly thisSystem: string;
  readonly extraPlatforms?: Iterable<string>;
  /** The local `system-features`. */
  readonly systemFeatures: Iterable<string>;
}

/** Nix's canBuildLocally for the hook: willing, system is local or an extra platform, all features local. */
export function canBuildLocally(local: LocalBuildCapability, needs: BuildNeeds): boolean {
  if (!local.amWilling) return false;
  if (needs.system !== local.thisSystem && ![...(local.extraPlatforms ?? [])].includes(needs.system)) return false;
  const features = new Set(local.systemFeatures);
  return [...needs.requiredFeatures].every((f) => features.has(f));
}
