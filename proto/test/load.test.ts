import { test } from 'node:test';
import assert from 'node:assert/strict';
import { Server, ServerCredentials, credentials, type GrpcObject, type ServiceClientConstructor } from '@grpc/grpc-js';
import { loadFarmProtos, protoFiles } from '../src/index.js';

test('every farm/v1 proto file loads', () => {
  assert.deepEqual(protoFiles(), ['farm/v1/agent.proto', 'farm/v1/common.proto', 'farm/v1/coordinator.proto', 'farm/v1/store.proto']);
  const pkg = loadFarmProtos();
  const v1 = (pkg['farm'] as GrpcObject)['v1'] as GrpcObject;
  assert.equal(typeof v1['Coordinator'], 'function');
  for (const message of ['PathInfo', 'AddPathChunk', 'SubmissionEvent', 'Assignment', 'BuildResult', 'Heartbeat']) {
    assert.equal(typeof v1[message], 'object', `${message} is defined`);
  }
});

test('a GetInfo call round-trips over a real loopback gRPC server', async () => {
  const v1 = ((loadFarmProtos()['farm'] as GrpcObject)['v1'] as GrpcObject);
  const Coordinator = v1['Coordinator'] as ServiceClientConstructor;
  const server = new Server();
  server.addService(Coordinator.service, {
    GetInfo: (_call: unknown, cb: (e: null, r: object) => void) =>
      cb(null, { version: '0.1.0', storeDir: '/nix/store', agents: [{ systems: ['x86_64-linux'], maxJobs: 4, speedFactor: 1.5 }] }),
  });
  const port = await new Promise<number>((res, rej) =>
    server.bindAsync('127.0.0.1:0', ServerCredentials.createInsecure(), (e, p) => (e ? rej(e) : res(p))),
  );
  try {
    const client = new Coordinator(`127.0.0.1:${port}`, credentials.createInsecure());
    const reply = await new Promise<any>((res, rej) =>
      (client as any).GetInfo({}, (e: Error | null, r: unknown) => (e ? rej(e) : res(r))),
    );
    client.close();
    assert.equal(reply.version, '0.1.0');
    assert.equal(reply.storeDir, '/nix/store');
    assert.deepEqual(reply.agents[0].systems, ['x86_64-linux']);
    assert.equal(reply.agents[0].speedFactor, 1.5);
  } finally {
    server.forceShutdown();
  }
});
