/**
 * The door benchmark's options and results (door-bench.ts runs it, door-report.ts prints it).
 */
import type { DagShape } from './door-nix.js';
import type { DoorProfile, Stat } from './door-profile.js';

export const DOOR_SIDES = ['farm-ssh-ng', 'farm-ssh', 'plain'] as const;
export type DoorSide = (typeof DOOR_SIDES)[number];

export interface DoorBenchOptions extends DagShape {
  readonly runs: number;
  readonly sides: readonly DoorSide[];
  /** Sides given a profiled run after the timed runs (none: no breakdown). */
  readonly profile: readonly DoorSide[];
  /** The farm sides' remote program (default: the repository's cli/bin/farm-nix-stdio); to measure another relay. */
  readonly farmProgram?: string;
}

/** One side of one run. */
export interface DoorSideRun {
  readonly side: DoorSide;
  readonly seconds: number;
  readonly derivations: number;
  /** The client's log: derivations built on the remote, and built by the client itself. */
  readonly offloaded: number;
  readonly builtLocally: number;
  /** Derivations the remote built: the farm's build records (status built), or outputs valid in /nix/store. */
  readonly builtByRemote: number;
  /** Outputs valid in the client's store afterwards. */
  readonly validInClient: number;
  /** Machine CPU seconds (all processes) while the client ran. */
  readonly cpuSeconds: number;
}

/** The farm's own records of a side's builds. */
export interface FarmBuildStats {
  readonly builds: number;
  /** ready → assigned (queueing for one of the agents' slots). */
  readonly queue: Stat;
  /** assigned → finished (the agent: inputs fetched, sandboxed build, outputs uploaded, result applied). */
  readonly agent: Stat;
}

export interface DoorSideProfile extends DoorProfile {
  readonly side: DoorSide;
  /** Wall time of the profiled run (each session also pays the relay's start-up). */
  readonly seconds: number;
  readonly farm?: FarmBuildStats & {
    /** BuildDerivation's first byte → the job was ready (submission). */
    readonly doorBefore: Stat;
    /** The result was applied → the last byte of BuildDerivation's reply. */
    readonly doorAfter: Stat;
  };
}

export interface DoorBenchResult {
  readonly derivations: number;
  readonly layers: number;
  readonly width: number;
  readonly runs: readonly (readonly DoorSideRun[])[];
  /** Median wall seconds per side over the runs. */
  readonly medians: Partial<Record<DoorSide, number>>;
  /** plain / farm by median (> 1 means the farm is faster). */
  readonly ratioSsh?: number;
  readonly ratioSshNg?: number;
  readonly farmBuilds: Partial<Record<DoorSide, FarmBuildStats>>;
  readonly profiles: readonly DoorSideProfile[];
  readonly cpus: number;
  readonly cpuModel: string;
  readonly command: string;
}
