import { test } from 'node:test';
import assert from 'node:assert/strict';
import { ProtoMessageError, decodeMessage, encodeMessage } from '../src/index.js';

test('an Assignment round-trips with the gRPC loader conventions (camelCase, u64 as strings, enums by name)', () => {
  const assignment = {
    lease: { jobId: 'job_1', epoch: '3' },
    deadlineMs: '1700000015000',
    drvPath: '/nix/store/32icqdfn7099aa0kmi330x0ryh3yn6rk-greeting.drv',
    drv: {
      outputs: { out: { path: '/nix/store/3j2mc0525jvb7mn68sj8vvqqspn9grlk-greeting', hashAlgo: '', hash: '' } },
      inputSrcs: [],
      system: 'x86_64-linux',
      builder: '/bin/sh',
      args: ['-c', 'echo hi > $out'],
      env: { out: '/nix/store/3j2mc0525jvb7mn68sj8vvqqspn9grlk-greeting' },
    },
    inputs: [],
    timeoutMs: '0',
    maxSilentMs: '0',
    maxLogBytes: '67108864',
    inputNars: [{ path: '/nix/store/3j2mc0525jvb7mn68sj8vvqqspn9grlk-greeting', nar: Buffer.from('nix-archive-1') }],
  };
  const back = decodeMessage<typeof assignment>('Assignment', encodeMessage('Assignment', assignment));
  assert.deepEqual(back, assignment);
  const result = decodeMessage<{ status: string; lease: { epoch: string } }>(
    'BuildResult',
    encodeMessage('BuildResult', { lease: { jobId: 'job_1', epoch: 3 }, status: 'BUILD_STATUS_FAILED', message: 'exit 1' }),
  );
  assert.equal(result.status, 'BUILD_STATUS_FAILED');
  assert.equal(result.lease.epoch, '3');
});

test('garbage bytes, wrong field types and unknown types are ProtoMessageErrors', () => {
  assert.throws(() => decodeMessage('Heartbeat', Uint8Array.from([0x0a, 0xff, 0xff, 0xff, 0xff, 0x0f])), ProtoMessageError);
  assert.throws(() => encodeMessage('Heartbeat', { agentId: 42 }), /invalid Heartbeat: agentId/);
  assert.throws(() => encodeMessage('NoSuchMessage', {}), /unknown message type 'NoSuchMessage'/);
});

test('bytes fields decode as Buffers whatever the input type (as the gRPC loader gives them)', () => {
  const bytes = encodeMessage('LogChunk', { jobId: 'j', data: Buffer.from('hello') });
  for (const input of [bytes, Buffer.from(bytes), new Uint8Array(bytes)]) {
    const chunk = decodeMessage<{ data: Buffer }>('LogChunk', input);
    assert.ok(Buffer.isBuffer(chunk.data));
    assert.equal(chunk.data.toString(), 'hello');
  }
});
