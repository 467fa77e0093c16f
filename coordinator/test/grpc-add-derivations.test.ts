/**
 * AddDerivations over real gRPC: a whole .drv closure in one call, verified in order like AddPath
 * of each .drv (then submittable); a derivation before its input, or one whose ATerm does not
 * match its path, is refused naming it, and those before it stay stored.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import type { AddDerivationsResponse__Output, SubmitResponse__Output } from '@farm/proto';
import { addPath, call, diamondExpression, instantiate, localPath, nixClosure, withFarm } from './service-fixtures.js';

const upload = (drvs: readonly string[]) => ({ derivations: drvs.map((p) => ({ drvPath: p, aterm: readFileSync(p) })) });

test('a .drv closure in one AddDerivations call; order and contents are checked', { timeout: 60_000 }, async () => {
  const drvs = await instantiate(diamondExpression('adddrvs'), ['top', 'feature']);
  await withFarm(async (farm) => {
    const closure = nixClosure([drvs.top!]);
    for (const p of closure.filter((p) => !p.endsWith('.drv'))) {
      const { info, nar } = localPath(p);
      await addPath(farm.client, info, nar);
    }
    const inOrder = closure.filter((p) => p.endsWith('.drv'));

    // Out of order: the dependent first is refused, naming the input it lacks.
    const reversed = [...inOrder].reverse();
    await assert.rejects(call(farm.client, 'AddDerivations', upload(reversed)), (e: Error) => e.message.includes(reversed[0]!) && /not in the farm store|not valid/.test(e.message));
    assert.equal(await farm.store.isValidPath(reversed[0]!), false);

    // A derivation whose ATerm is not the one its path names is refused, naming it.
    const feature = drvs.feature!;
    await assert.rejects(
      call(farm.client, 'AddDerivations', { derivations: [{ drvPath: feature, aterm: readFileSync(drvs.top!) }] }),
      (e: Error) => e.message.includes(feature),
    );
    assert.equal(await farm.store.isValidPath(feature), false);

    const res = await call<object, AddDerivationsResponse__Output>(farm.client, 'AddDerivations', upload(inOrder));
    assert.deepEqual(res.alreadyValid, inOrder.map(() => false));
    for (const p of inOrder) assert.equal(await farm.store.isValidPath(p), true);
    const again = await call<object, AddDerivationsResponse__Output>(farm.client, 'AddDerivations', upload(inOrder));
    assert.deepEqual(again.alreadyValid, inOrder.map(() => true));

    const sub = await call<object, SubmitResponse__Output>(farm.client, 'Submit', { roots: [{ drvPath: drvs.top! }], client: 'test' });
    assert.ok(sub.submissionId !== '');
  });
});
