/**
 * Malformed input over gRPC (and through the agent API) gets a clear error with the right code
 * — the gRPC status and the `farm-error-code` metadata — and leaves the store and the
 * coordinator state exactly as they were: bad ATerm, a `.drv` whose path does not match its
 * contents, NAR hashes and sizes that differ from the header, oversized fields, AddPath without
 * or with two headers, references not uploaded yet, Submit of unknown or non-drv paths.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { FARM_ERROR_METADATA_KEY, GRPC_STATUS } from '@farm/common';
import { makeStorePath, sha256 } from '@farm/nix';
import type { ServiceError } from '@grpc/grpc-js';
import type { PathInfo } from '@farm/proto';
import {
  addPath,
  call,
  diamondExpression,
  DIAMOND_ATTRS,
  instantiate,
  localPath,
  nixClosure,
  registerAgent,
  rejectsWith,
  uploadClosure,
  withFarm,
} from './service-fixtures.js';
import { narOf, snapshot } from './store-fixtures.js';

test('malformed uploads and submissions are refused with the right code and change nothing', { timeout: 60_000 }, async () => {
  const drvs = await instantiate(diamondExpression('refuse'), DIAMOND_ATTRS);
  await withFarm(async (farm) => {
    // Everything but b's closure is uploaded; b.drv itself is what the bad uploads pretend to be.
    await uploadClosure(farm.client, [drvs.a!]);
    const before = await snapshot(farm.store);
    const bDrv = drvs.b!;
    const aterm = readFileSync(bDrv);
    const drvNar = async (text: Buffer | string) => {
      const nar = await narOf(text.toString());
      return { nar, info: { path: bDrv, narHash: sha256(nar).toPrefixed('nix32'), narSize: nar.length, references: [] as string[] } };
    };

    // Bad ATerm.
    const garbage = await drvNar('Derive([("out","/nix/store/x"');
    await rejectsWith(addPath(farm.client, garbage.info, garbage.nar), 'INVALID_ARGUMENT', /derivation|ATerm|expected/i);
    // A .drv whose path does not match its contents.
    const tampered = await drvNar(aterm.toString().replace('"/bin/sh"', '"/bin/bash"'));
    await rejectsWith(addPath(farm.client, tampered.info, tampered.nar), 'INVALID_ARGUMENT', /does not match/);
    // A .drv NAR that is not a single regular file.
    const dir = await narOf({ 'b.drv': aterm.toString() });
    await rejectsWith(
      addPath(farm.client, { path: bDrv, narHash: sha256(dir).toPrefixed('nix32'), narSize: dir.length, references: [] }, dir),
      'INVALID_ARGUMENT',
      /single regular file/,
    );
    // NAR hash (and size) different from the header, for a .drv and for a plain path.
    const good = await drvNar(aterm);
    await rejectsWith(addPath(farm.client, { ...good.info, narHash: sha256('other').toPrefixed('nix32') }, good.nar), 'INVALID_ARGUMENT', /NAR hash mismatch/);
    await rejectsWith(addPath(farm.client, { ...good.info, narSize: good.nar.length - 8 }, good.nar), 'INVALID_ARGUMENT', /NAR size mismatch/);
    const plain = await narOf('just a file\n');
    const plainPath = makeStorePath('output:out', sha256('refusal-plain'), 'refusal-plain');
    await rejectsWith(
      addPath(farm.client, { path: plainPath, narHash: sha256('not it').toPrefixed('nix32'), narSize: plain.length, references: [] }, plain),
      'INVALID_ARGUMENT',
      /NAR hash mismatch/,
    );
    await rejectsWith(addPath(farm.client, { path: plainPath, narHash: 'sha256:notahash', narSize: plain.length, references: [] }, plain), 'INVALID_ARGUMENT', /bad narHash/);
    // A reference that is not valid yet.
    const ref = makeStorePath('output:out', sha256('not-uploaded'), 'not-uploaded');
    await rejectsWith(
      addPath(farm.client, { path: plainPath, narHash: sha256(plain).toPrefixed('nix32'), narSize: plain.length, references: [ref] }, plain),
      'FAILED_PRECONDITION',
      /reference .*not-uploaded is not valid/,
    );
    // Oversized fields.
    const ok = { path: plainPath, narHash: sha256(plain).toPrefixed('nix32'), narSize: plain.length, references: [] as string[] };
    await rejectsWith(addPath(farm.client, { ...ok, path: `/nix/store/${'x'.repeat(600)}` }, plain), 'INVALID_ARGUMENT', /info\.path is 611 characters long/);
    await rejectsWith(addPath(farm.client, { ...ok, sigs: Array.from({ length: 65 }, (_, i) => `k${i}:sig`) }, plain), 'INVALID_ARGUMENT', /info\.sigs has 65 items/);
    await rejectsWith(addPath(farm.client, { ...ok, narSize: '99999999999999999999' }, plain), 'INVALID_ARGUMENT', /narSize/);
    await rejectsWith(addPath(farm.client, { ...ok, deriver: 'not a path' }, plain), 'INVALID_ARGUMENT', /'not a path' is not in the Nix store/);
    // Framing: no header, two headers, nothing at all.
    await rejectsWith(addPath(farm.client, ok, plain, undefined, { noHeader: true }), 'INVALID_ARGUMENT', /must start with a header/);
    await rejectsWith(addPath(farm.client, ok, plain, undefined, { extraHeader: true, chunk: 16 }), 'INVALID_ARGUMENT', /one header/);
    await rejectsWith(addPath(farm.client, ok, Buffer.alloc(0), undefined, { noHeader: true }), 'INVALID_ARGUMENT', /empty upload/);
    // A lease that is not a job's.
    await rejectsWith(addPath(farm.client, ok, plain, { jobId: 'not-a-job', epoch: 1 }), 'INVALID_ARGUMENT', /not a job id/);
    await rejectsWith(addPath(farm.client, ok, plain, { jobId: '0'.repeat(32), epoch: 1 }), 'FAILED_PRECONDITION', /stale lease: .*not running/);

    // Submissions: unknown drv, a path that is not a drv, nothing, oversized client.
    await rejectsWith(call(farm.client, 'Submit', { roots: [{ drvPath: bDrv }] }), 'FAILED_PRECONDITION', new RegExp(`root derivation ${bDrv.replace(/[.]/g, '\\.')} is not in the farm store`));
    await rejectsWith(call(farm.client, 'Submit', { roots: [{ drvPath: plainPath }] }), 'INVALID_ARGUMENT', /is not a \.drv store path/);
    await rejectsWith(call(farm.client, 'Submit', { roots: [] }), 'INVALID_ARGUMENT', /at least one root/);
    await rejectsWith(call(farm.client, 'Submit', { roots: [{ drvPath: drvs.a }], client: 'c'.repeat(300) }), 'INVALID_ARGUMENT', /client is 300 characters/);
    await rejectsWith(call(farm.client, 'QueryMissing', { paths: ['nope'] }), 'INVALID_ARGUMENT', /not a store path/);
    await rejectsWith(call(farm.client, 'ListBuilds', { drvPath: 'nope' }), 'INVALID_ARGUMENT', /not a \.drv store path/);

    // The raw gRPC error carries the status code and the farm code in the trailing metadata.
    const raw = await new Promise<ServiceError>((resolve) => {
      (farm.client as unknown as { Submit(r: object, cb: (e: ServiceError) => void): void }).Submit({ roots: [{ drvPath: bDrv }] }, resolve);
    });
    assert.equal(raw.code, GRPC_STATUS.FAILED_PRECONDITION);
    assert.deepEqual(raw.metadata.get(FARM_ERROR_METADATA_KEY), ['FAILED_PRECONDITION']);

    // Nothing of it reached the store or the state.
    assert.deepEqual(await snapshot(farm.store), before);
    assert.deepEqual(farm.state.listSubmissions(), []);
    assert.deepEqual(farm.state.listJobs(), []);

    // The real thing is still accepted afterwards.
    assert.deepEqual(await addPath(farm.client, good.info, good.nar), { alreadyValid: false });
    assert.deepEqual(await addPath(farm.client, good.info, good.nar), { alreadyValid: true });
    const source = nixClosure([drvs.a!]).find((p) => !p.endsWith('.drv'))!;
    const { info } = localPath(source);
    assert.deepEqual(await addPath(farm.client, info as PathInfo, localPath(source).nar), { alreadyValid: true });
  });
});

test('the agent API refuses malformed messages with FarmErrors instead of crashing', { timeout: 30_000 }, async () => {
  await withFarm(async (farm) => {
    const s = farm.service;
    const caps = { systems: ['x86_64-linux'], supportedFeatures: [], mandatoryFeatures: [], maxJobs: 1, speedFactor: 1, emulated: {} };
    const hello = { name: 'ok', host: 'h', version: 'v', running: [], capabilities: caps };
    await rejectsWith(s.register({ ...hello, name: 'bad name!' }), 'INVALID_ARGUMENT', /name 'bad name!' must match/);
    await rejectsWith(s.register({ ...hello, capabilities: null }), 'INVALID_ARGUMENT', /capabilities are missing/);
    await rejectsWith(s.register({ ...hello, capabilities: { ...caps, systems: [] } }), 'INVALID_ARGUMENT', /at least one system/);
    await rejectsWith(s.register({ ...hello, capabilities: { ...caps, maxJobs: 0 } }), 'INVALID_ARGUMENT', /maxJobs must be at least 1/);
    await rejectsWith(s.register({ ...hello, capabilities: { ...caps, speedFactor: Number.NaN } }), 'INVALID_ARGUMENT', /speedFactor/);
    await rejectsWith(s.register({ ...hello, capabilities: { ...caps, emulated: { 'aarch64-linux': 'qemu (/usr/bin/qemu-aarch64-static)' } } }), 'INVALID_ARGUMENT', /emulated names 'aarch64-linux', which is not among capabilities\.systems/);
    await rejectsWith(s.register({ ...hello, capabilities: { ...caps, emulated: { 'x86_64-linux': 'x'.repeat(600) } } }), 'INVALID_ARGUMENT', /emulated\['x86_64-linux'\] is 600 characters long/);
    await rejectsWith(s.register({ ...hello, running: [{ jobId: 'x', epoch: '1' }] }), 'INVALID_ARGUMENT', /running\[0\]\.jobId/);
    await rejectsWith(s.heartbeat({ agentId: 'ghost', leases: [], freeSlots: 1, draining: false }), 'NOT_FOUND', /register again/);
    await rejectsWith(s.requestWork({ agentId: 'ghost', freeSlots: 1, waitMs: '0' }, new AbortController().signal), 'NOT_FOUND', /register again/);
    await registerAgent(s, 'ok');
    await rejectsWith(s.requestWork({ agentId: 'ok', freeSlots: 1, waitMs: '-1' }, new AbortController().signal), 'INVALID_ARGUMENT', /waitMs/);
    const res = { lease: { jobId: '0'.repeat(32), epoch: '1' }, agentId: 'ok', status: 'BUILD_STATUS_BUILT' as const, message: '', outputs: [], logTail: Buffer.alloc(0), startMs: '0', stopMs: '0', outputNars: [] };
    await rejectsWith(s.applyResult({ ...res, lease: null }), 'INVALID_ARGUMENT', /no lease/);
    await rejectsWith(s.applyResult({ ...res, status: 'BUILD_STATUS_UNSPECIFIED' }), 'INVALID_ARGUMENT', /not a known build status/);
    assert.deepEqual(await s.applyResult(res), { accepted: false, reason: `unknown job ${'0'.repeat(32)}` });
    // A long poll ends with no work when asked to stop.
    const ac = new AbortController();
    const polling = s.requestWork({ agentId: 'ok', freeSlots: 1, waitMs: '60000' }, ac.signal);
    ac.abort();
    assert.deepEqual(await polling, { assignments: [] });
  });
});
