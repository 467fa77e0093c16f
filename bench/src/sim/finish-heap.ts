/**
 * The simulator's event queue: running builds ordered by simulated finish time, ties broken by
 * the order they started (so a run is deterministic whatever the heap's internal layout).
 * The core's own binary heap, with that order.
 */
import { BinaryHeap } from '@farm/coordinator';

export interface RunningBuild {
  readonly finishAt: number;
  /** Start order, unique: the tie-break among equal finish times. */
  readonly seq: number;
  readonly jobId: string;
  readonly drvPath: string;
  readonly agentId: string;
  readonly epoch: number;
}

function earlier(a: RunningBuild, b: RunningBuild): boolean {
  return a.finishAt !== b.finishAt ? a.finishAt < b.finishAt : a.seq < b.seq;
}

/** The running builds, earliest finish first. */
export class FinishHeap extends BinaryHeap<RunningBuild> {
  constructor() {
    super(earlier);
  }
}
