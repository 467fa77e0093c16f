/**
 * Opens the coordinator's durable state: one LMDB file `<stateDir>/state.mdb` (see
 * lmdb-coordinator-state.ts for the databases and key layout).
 */
import { join } from 'node:path';
import type { CoordinatorState } from '../../service/coordinator-state.js';
import { LmdbCoordinatorState } from './lmdb-coordinator-state.js';

export function openCoordinatorState(stateDir: string): CoordinatorState {
  return LmdbCoordinatorState.open(join(stateDir, 'state.mdb'));
}
