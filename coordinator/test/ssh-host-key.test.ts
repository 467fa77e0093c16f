/**
 * The SSH gateway's host key: created once (0600) and read back the same, and never written in
 * the malformed form ssh2's generator sometimes produces (a 31-byte public key, which ssh2 then
 * refuses to read: farm up failed to start on such a fresh state dir).
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { stat } from 'node:fs/promises';
import { join } from 'node:path';
import { silentLogger } from '@farm/common';
import { makeTempDir } from '@farm/testkit';
import ssh2 from 'ssh2';
import { generateHostKey, loadOrCreateHostKey } from '../src/adapters/ssh/host-key.js';

/** A key ssh2.utils.generateKeyPairSync('ed25519') really wrote (1 in ~250 are like it): its public key lost a leading zero byte. */
const MALFORMED = `-----BEGIN OPENSSH PRIVATE KEY-----
b3BlbnNzaC1rZXktdjEAAAAABG5vbmUAAAAEbm9uZQAAAAAAAAABAAAAMgAAAAtz
c2gtZWQyNTUxOQAAAB9DCdUyPC11CxcJXEXksc/KpD+KO4eOBcPwrog8hwWFAAAA
iHxl4vh8ZeL4AAAAC3NzaC1lZDI1NTE5AAAAH0MJ1TI8LXULFwlcReSxz8qkP4o7
h44Fw/CuiDyHBYUAAAA/8dps0tAUEVYVj8/D9ACuOWvsILgpSMcpfIZEiYZDNxpD
CdUyPC11CxcJXEXksc/KpD+KO4eOBcPwrog8hwWFAAAABGZhcm0BAgM=
-----END OPENSSH PRIVATE KEY-----
`;

test('a malformed key from the generator is drawn again; a readable one is kept', () => {
  assert.ok(ssh2.utils.parseKey(MALFORMED) instanceof Error, 'the sample is one ssh2 cannot read');
  const good = ssh2.utils.generateKeyPairSync('ed25519', { comment: 'farm' }).private;
  const drawn = [MALFORMED, MALFORMED, good];
  assert.equal(generateHostKey(() => drawn.shift()!), good);
  assert.equal(drawn.length, 0, 'drawn until a readable one came');
  assert.throws(() => generateHostKey(() => MALFORMED), /no readable ed25519 key/);
});

test('the host key is created once, mode 0600, and read back the same', async () => {
  const dir = await makeTempDir('farm-host-key-');
  try {
    const file = join(dir.path, 'door', 'ssh_host_ed25519_key');
    const first = await loadOrCreateHostKey(file, silentLogger());
    assert.match(first.publicLine, /^ssh-ed25519 AAAA\S+ farm$/);
    assert.equal((await stat(file)).mode & 0o777, 0o600);
    const again = await loadOrCreateHostKey(file, silentLogger());
    assert.equal(again.publicLine, first.publicLine);
  } finally {
    await dir.remove();
  }
});
