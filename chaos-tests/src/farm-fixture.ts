/**
 * The end-to-end tests' shared set-up: `farm up` in a fresh temp dir with a gRPC client on it,
 * and its teardown, which also checks that `farm up` stopped cleanly on Ctrl-C (exit 0).
 *
 *   before(async () => ({ dir, farm, client } = await startFarmFixture('farm-e2e-', ['--agents', '2'])));
 *   after(() => stopFarmFixture({ dir, farm, client }));
 */
import assert from 'node:assert/strict';
import { join } from 'node:path';
import { makeTempDir, startFarmUp, type FarmUp, type TempDir } from '@farm/testkit';
import { FarmClient } from './farm-client.js';

export interface FarmFixture {
  readonly dir: TempDir;
  readonly farm: FarmUp;
  readonly client: FarmClient;
}

/** `farm up <args>` with its state in `<temp dir>/state`. */
export async function startFarmFixture(prefix: string, args: readonly string[]): Promise<FarmFixture> {
  const dir = await makeTempDir(prefix);
  try {
    const farm = await startFarmUp({ stateDir: join(dir.path, 'state'), args });
    return { dir, farm, client: new FarmClient(farm.grpc) };
  } catch (e) {
    await dir.remove();
    throw e;
  }
}

/** Closes what was started (any part may be missing when the set-up failed), then checks the exit. */
export async function stopFarmFixture(fixture: Partial<FarmFixture>): Promise<void> {
  fixture.client?.close();
  const code = await fixture.farm?.stop();
  await fixture.dir?.remove();
  if (fixture.farm !== undefined) assert.equal(code, 0, 'farm up stops cleanly on Ctrl-C');
}
