/**
 * Learned build durations come from the farm's own history: a build's time (lease to result)
 * is recorded with the derivation's system, and after a restart the model is rebuilt from the
 * build records, so a new version of the same package is predicted from it (Explain shows it).
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { ManualClock } from '@farm/common';
import type { ExplainResponse__Output, SubmitResponse__Output } from '@farm/proto';
import { buildAndReport, call, HOST_SYSTEM, instantiate, registerAgent, requestWork, uploadClosure, withFarm } from './service-fixtures.js';

const twoVersions = (salt: string) => `
let mk = version: derivation {
  name = "learned-${salt}-\${version}";
  system = builtins.currentSystem;
  builder = "/bin/sh";
  args = [ "-c" "echo \${version} > $out" ];
};
in { v1 = mk "1.0"; v2 = mk "2.0"; }
`;

test('build times are learned per versionless name and system, and survive a restart', { timeout: 60_000 }, async () => {
  const drvs = await instantiate(twoVersions(String(Date.now())), ['v1', 'v2']);
  const clock = new ManualClock(1_000_000);
  await withFarm(
    async (farm) => {
      await uploadClosure(farm.client, [drvs.v1!, drvs.v2!]);
      const submit = (drv: string) => call<object, SubmitResponse__Output>(farm.client, 'Submit', { roots: [{ drvPath: drv }], client: 'test' });
      const explain = (drv: string) => call<object, ExplainResponse__Output>(farm.client, 'Explain', { drvPath: drv });
      await submit(drvs.v1!);
      await registerAgent(farm.service, 'agent-1');
      const [v1] = await requestWork(farm.service, 'agent-1', 1);
      assert.equal(v1?.drvPath, drvs.v1);
      clock.advance(42_000);
      assert.deepEqual(await buildAndReport(farm, 'agent-1', v1!), { accepted: true });
      const [build] = farm.state.listBuilds(drvs.v1);
      assert.equal(build?.system, HOST_SYSTEM);

      await farm.restart();
      await submit(drvs.v2!); // no agent registered since the restart: it stays queued
      const explained = await explain(drvs.v2!);
      assert.equal(Number(explained.estimateMs), 42_000, 'version 2.0 is predicted from version 1.0, learned before the restart');
    },
    // A lease longer than the 42 s the manual clock jumps: the service's real-time lease timer
    // may tick between the jump and the result, and would otherwise expire the lease (a flake seen in CI).
    { clock, options: { leaseMs: 600_000 } },
  );
});
