/**
 * authorized_keys parsing for the SSH door: key types and fingerprints as ssh-keygen prints them,
 * OpenSSH's options and the farm's own, quoting, lines skipped with a warning (never a partial
 * grant), and how a key line's farm-* options merge with the farm config's per-key `keys`.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { grantFor, parseAuthorizedKeys, parseKeyOptions, type AuthorizedKey } from '../src/index.js';

// Made with ssh-keygen; the fingerprints are what `ssh-keygen -lf` printed for them.
const ED = 'ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIPExR+Stf5ci8JuslrmiPMy1X+6qNNEWyKEXRTLFgJRW';
const ED_FP = 'SHA256:i1ASJrLO2JxnJcIauSf7BoMZ+vwEvk3lep0seq2AbpU';
const ECDSA =
  'ecdsa-sha2-nistp256 AAAAE2VjZHNhLXNoYTItbmlzdHAyNTYAAAAIbmlzdHAyNTYAAABBBAScnXYvMFarJ4DUO7BC5+6fj9HxeG8rTI6BXY+C/v0lkXt4atOav7EnpzIwQWHyApBadd/OdS4ayXLx0x2ltzE=';
const ECDSA_FP = 'SHA256:qIAYa3Rax//Qis85MpRuxNgpqkqzi+cMnRPqoboWwCY';

function one(line: string): AuthorizedKey {
  const r = parseAuthorizedKeys(line);
  assert.deepEqual(r.warnings, []);
  assert.equal(r.keys.length, 1);
  return r.keys[0]!;
}

function warning(line: string): string {
  const r = parseAuthorizedKeys(line);
  assert.equal(r.keys.length, 0, `'${line}' must be skipped`);
  assert.equal(r.warnings.length, 1);
  return r.warnings[0]!.message;
}

test('plain lines: type, blob, comment (with spaces) and the SHA256 fingerprint ssh-keygen prints', () => {
  const k = one(`${ED} alice@laptop  work key`);
  assert.equal(k.keyType, 'ssh-ed25519');
  assert.equal(k.fingerprint, ED_FP);
  assert.equal(k.comment, 'alice@laptop work key');
  assert.equal(k.key.type, 'ssh-ed25519');
  assert.equal(k.blob.equals(k.key.getPublicSSH()), true);
  assert.equal(k.options.command, undefined);
  const e = one(ECDSA);
  assert.equal(e.fingerprint, ECDSA_FP);
  assert.equal(e.comment, undefined);
});

test('blank lines and # comments are skipped silently; line numbers count every line', () => {
  const r = parseAuthorizedKeys(`# the farm's users\n\n   \n${ED} alice\r\n# ${ECDSA}\nbogus\n${ECDSA} ci\n`);
  assert.deepEqual(
    r.keys.map((k) => [k.line, k.comment]),
    [
      [4, 'alice'],
      [7, 'ci'],
    ],
  );
  assert.deepEqual(r.warnings, [{ line: 6, message: "unknown option 'bogus'" }]);
});

test('OpenSSH options: flags case-insensitive, command="…" with spaces, commas and escaped quotes', () => {
  const k = one(`restrict,NO-PTY,no-port-forwarding,no-agent-forwarding,no-X11-forwarding,no-user-rc,command="nix-store --serve --write \\"x,y\\"" ${ED} alice`);
  assert.equal(k.options.restrict, true);
  assert.equal(k.options.noPty, true);
  assert.equal(k.options.noPortForwarding, true);
  assert.equal(k.options.noAgentForwarding, true);
  assert.equal(k.options.noX11Forwarding, true);
  assert.equal(k.options.noUserRc, true);
  assert.equal(k.options.command, 'nix-store --serve --write "x,y"');
  assert.equal(k.comment, 'alice');
});

test('farm options: quoted or not; systems deduplicated', () => {
  const k = one(`farm-name="Alice Smith",farm-systems="x86_64-linux,aarch64-linux,x86_64-linux",farm-max-builds=4 ${ED} alice@laptop`);
  assert.equal(k.options.farmName, 'Alice Smith');
  assert.deepEqual(k.options.farmSystems, ['x86_64-linux', 'aarch64-linux']);
  assert.equal(k.options.farmMaxBuilds, 4);
  const u = one(`farm-name=ci,farm-systems=i686-linux,farm-max-builds="16" ${ED}`);
  assert.deepEqual([u.options.farmName, u.options.farmSystems, u.options.farmMaxBuilds], ['ci', ['i686-linux'], 16]);
});

test('a line with an unknown option or a malformed value is skipped, with the reason', () => {
  assert.match(warning(`from="10.0.0.0/8" ${ED} alice`), /unknown option 'from'/);
  assert.match(warning(`permitopen="host:22" ${ED}`), /unknown option 'permitopen'/);
  assert.match(warning(`farm-max-builds=0 ${ED}`), /farm-max-builds '0'/);
  assert.match(warning(`farm-max-builds=two ${ED}`), /farm-max-builds 'two'/);
  assert.match(warning(`farm-max-builds=4.5 ${ED}`), /farm-max-builds/);
  assert.match(warning(`farm-systems="x86_64" ${ED}`), /farm-systems 'x86_64'/);
  assert.match(warning(`farm-systems="" ${ED}`), /farm-systems/);
  assert.match(warning(`farm-name="" ${ED}`), /farm-name/);
  assert.match(warning(`command=nix-store ${ED}`), /must be in double quotes/);
  assert.match(warning(`command="nix-store ${ED}`), /unterminated quote/);
  assert.match(warning(`restrict="yes" ${ED}`), /takes no value/);
  assert.match(warning(`command ${ED}`), /needs a value/);
  assert.match(warning(`command="a",command="b" ${ED}`), /given twice/);
  assert.match(warning(`restrict,,no-pty ${ED}`), /empty option/);
  assert.match(warning(`restrict, ${ED}`), /trailing comma/);
  assert.match(warning(`restrict`), /no key after the options/);
  assert.match(warning(`restrict foo AAAA`), /'foo' is not a key type/);
});

test('bad keys are skipped: unsupported types, bad base64, a blob of another type', () => {
  assert.match(warning('ssh-dss AAAAB3NzaC1kc3MAAACBAP8= old'), /key type 'ssh-dss' is not supported/);
  assert.match(warning('sk-ssh-ed25519@openssh.com AAAAGnNrLXNzaC1lZDI1NTE5QG9wZW5zc2guY29t x'), /not supported/);
  assert.match(warning('ssh-ed25519 not*base64 x'), /not valid base64/);
  assert.match(warning('ssh-ed25519'), /not valid base64/);
  // An ECDSA blob labelled as ed25519.
  assert.match(warning(`ssh-ed25519 ${ECDSA.split(' ')[1]!}`), /not a ssh-ed25519 key/);
  // The right type prefix but a truncated key.
  assert.match(warning('ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIPEx'), /cannot be read/);
});

test('parseKeyOptions on its own', () => {
  const r = parseKeyOptions('no-pty,farm-name="a\\"b"');
  assert.ok('options' in r);
  assert.equal(r.options.noPty, true);
  assert.equal(r.options.farmName, 'a"b');
  assert.ok('error' in parseKeyOptions('no-pty,x11-forwarding'));
});

test('grant: name is farm-name, else the comment, else the fingerprint', () => {
  assert.equal(grantFor(one(`farm-name=alice ${ED} alice@laptop`)).principal.name, 'alice');
  assert.equal(grantFor(one(`${ED} alice@laptop`)).principal.name, 'alice@laptop');
  assert.equal(grantFor(one(ED)).principal.name, ED_FP);
  const g = grantFor(one(ED));
  assert.deepEqual(g.principal, { name: ED_FP, systems: undefined, maxBuilds: undefined });
  assert.equal(g.fingerprint, ED_FP);
  assert.equal(g.forcedCommand, undefined);
  assert.equal(g.allowPty, true);
  assert.equal(grantFor(one(`restrict ${ED}`)).allowPty, false);
  assert.equal(grantFor(one(`no-pty ${ED}`)).allowPty, false);
  assert.equal(grantFor(one(`command="nix-daemon --stdio" ${ED}`)).forcedCommand, 'nix-daemon --stdio');
});

test('grant: the key line wins over keys; keys by fingerprint win over keys by name, field by field', () => {
  const keys = {
    alice: { systems: ['i686-linux'], maxBuilds: 2 },
    'alice@laptop': { systems: ['armv7l-linux'], maxBuilds: 9 },
    [ED_FP]: { maxBuilds: 3 },
  };
  // Line options: both win.
  assert.deepEqual(grantFor(one(`farm-name=alice,farm-systems=x86_64-linux,farm-max-builds=8 ${ED} alice@laptop`), keys).principal, {
    name: 'alice',
    systems: ['x86_64-linux'],
    maxBuilds: 8,
  });
  // maxBuilds from the fingerprint entry, systems from the farm-name entry.
  assert.deepEqual(grantFor(one(`farm-name=alice ${ED} alice@laptop`), keys).principal, { name: 'alice', systems: ['i686-linux'], maxBuilds: 3 });
  // No farm-name: the comment names the entry.
  assert.deepEqual(grantFor(one(`${ED} alice@laptop`), keys).principal, { name: 'alice@laptop', systems: ['armv7l-linux'], maxBuilds: 3 });
  // Nothing matches: the farm's defaults (undefined).
  assert.deepEqual(grantFor(one(`${ECDSA} bob`), keys).principal, { name: 'bob', systems: undefined, maxBuilds: undefined });
  // Object's own members are not settings.
  assert.deepEqual(grantFor(one(`${ECDSA} constructor`), keys).principal, { name: 'constructor', systems: undefined, maxBuilds: undefined });
});
