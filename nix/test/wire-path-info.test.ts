import { test } from 'node:test';
import assert from 'node:assert/strict';
import { Hash, isNixFormatError, pathInfoFromWire, pathInfoToWire, type PathInfo } from '../src/index.js';

const narHash = Hash.of('sha256', 'a NAR');
const info: PathInfo = {
  path: '/nix/store/x6l90zfs2q745qzr5iq4za62qjwh6gzb-b.txt',
  deriver: '/nix/store/32icqdfn7099aa0kmi330x0ryh3yn6rk-greeting.drv',
  narHash,
  narSize: 176n,
  references: ['/nix/store/h1xv0qjnm4j1557r15pwwn2dziz4iq40-a.txt'],
  registrationTime: 1700000000n,
  ultimate: false,
  sigs: ['farm-test-1:abc'],
};

test('a PathInfo renders with the narHash form each protocol uses and parses back', () => {
  const worker = pathInfoToWire(info, 'worker');
  assert.equal(worker.narHash, narHash.base16);
  assert.equal(worker.ca, '');
  const serve = pathInfoToWire(info, 'serve');
  assert.equal(serve.narHash, `sha256:${narHash.nix32}`);
  assert.deepEqual(pathInfoFromWire(worker), info);
  assert.deepEqual(pathInfoFromWire(serve), info);
});

test('empty deriver and ca on the wire mean absent; a bad narHash is a typed error', () => {
  const bare = pathInfoFromWire({ ...pathInfoToWire(info, 'worker'), deriver: '', ca: '' });
  assert.equal('deriver' in bare, false);
  assert.equal('ca' in bare, false);
  assert.throws(() => pathInfoFromWire({ ...pathInfoToWire(info, 'worker'), narHash: 'md5:00' }), (e) => isNixFormatError(e, 'BAD_HASH'));
  assert.throws(() => pathInfoToWire({ ...info, narSize: 2n ** 60n }, 'worker'), (e) => isNixFormatError(e, 'UNSUPPORTED'));
});
