import { test } from 'node:test';
import assert from 'node:assert/strict';
import {
  NixFormatError,
  canBuildLocally,
  chooseMachine,
  formatNoMachineMessage,
  isMachineEligible,
  normaliseMachineUri,
  parseMachines,
  type Machine,
  type MachineSlotState,
} from '../src/index.js';

const X86 = { thisSystem: 'x86_64-linux' };
const HOST_KEY = Buffer.from('ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIExample root@builder\n').toString('base64');

test('a full 8-field spec parses into every field', () => {
  const [m, ...rest] = parseMachines(
    `ssh://nix@builder1 x86_64-linux,aarch64-linux /root/.ssh/id_builder 8 2 kvm,big-parallel,kvm benchmark ${HOST_KEY}`,
    X86,
  );
  assert.equal(rest.length, 0);
  assert.deepEqual(m, {
    storeUri: 'ssh://nix@builder1',
    systems: ['x86_64-linux', 'aarch64-linux'],
    sshKey: '/root/.ssh/id_builder',
    maxJobs: 8,
    speedFactor: 2,
    supportedFeatures: ['big-parallel', 'kvm'],
    mandatoryFeatures: ['benchmark'],
    publicHostKey: HOST_KEY,
  } satisfies Machine);
});

test('missing fields and "-" take the defaults: this system, no key, 1 job, speed 1, no features', () => {
  const expected: Machine = { storeUri: 'ssh://builder', systems: ['x86_64-linux'], maxJobs: 1, speedFactor: 1, supportedFeatures: [], mandatoryFeatures: [] };
  assert.deepEqual(parseMachines('builder', X86), [expected]);
  assert.deepEqual(parseMachines('builder - - - - - - -', X86), [expected]);
  assert.deepEqual(parseMachines('ssh://builder\t-   -\t-', X86), [expected]);
  assert.deepEqual(parseMachines('builder', { thisSystem: 'aarch64-darwin' })[0]!.systems, ['aarch64-darwin']);
  // Nix 2.8 raises a speed factor of 0 to 1 (it divides by it).
  assert.equal(parseMachines('b - - 4 0', X86)[0]!.speedFactor, 1);
  assert.equal(parseMachines('b - - 0', X86)[0]!.maxJobs, 0);
});

test('specs are separated by newlines and ";", "#" comments end at either, blank specs are skipped', () => {
  const text = [
    '# the farm',
    'ssh://a x86_64-linux ; ssh-ng://b aarch64-linux # arm box',
    '',
    '   ssh://c i686-linux   ',
    'ssh://d # comment ; ssh://e',
    ';;',
  ].join('\n');
  assert.deepEqual(
    parseMachines(text, X86).map((m) => [m.storeUri, m.systems.join(',')]),
    [
      ['ssh://a', 'x86_64-linux'],
      ['ssh-ng://b', 'aarch64-linux'],
      ['ssh://c', 'i686-linux'],
      ['ssh://d', 'x86_64-linux'],
      // As in Nix 2.8, the text is split on ';' before comments are cut, so `ssh://e` is a machine.
      ['ssh://e', 'x86_64-linux'],
    ],
  );
  assert.deepEqual(parseMachines('', X86), []);
  assert.deepEqual(parseMachines('# nothing\n  ;  \n', X86), []);
});

test('URI normalisation: bare host names get ssh://, URIs, paths and store words are kept', () => {
  const cases: Array<[string, string]> = [
    ['builder', 'ssh://builder'],
    ['nix@builder.example.org', 'ssh://nix@builder.example.org'],
    ['ssh://builder', 'ssh://builder'],
    ['ssh-ng://builder?remote-program=/usr/bin/farm%20--x', 'ssh-ng://builder?remote-program=/usr/bin/farm%20--x'],
    ['/var/farm/store', '/var/farm/store'],
    ['auto', 'auto'],
    ['daemon', 'daemon'],
    ['local', 'local'],
    ['auto?root=/x', 'auto?root=/x'],
    ['daemon?x=1', 'daemon?x=1'],
    ['local?root=/tmp/s', 'local?root=/tmp/s'],
    ['?root=/x', '?root=/x'],
    ['localhost', 'ssh://localhost'],
    ['automatic', 'ssh://automatic'],
  ];
  for (const [input, expected] of cases) {
    assert.equal(normaliseMachineUri(input), expected, input);
    assert.equal(parseMachines(input, X86)[0]!.storeUri, expected, input);
  }
});

test('@file includes use the injected reader; a missing file contributes no machines', () => {
  const files: Record<string, string> = {
    '/etc/nix/machines': 'ssh://a\n@/etc/nix/more # nested\n',
    '/etc/nix/more': 'ssh://b aarch64-linux',
  };
  const readFile = (p: string): string | undefined => files[p];
  const ms = parseMachines('@/etc/nix/machines; ssh://c; @ /etc/nix/missing', { ...X86, readFile });
  assert.deepEqual(ms.map((m) => m.storeUri), ['ssh://a', 'ssh://b', 'ssh://c']);
  assert.throws(() => parseMachines('@/etc/nix/machines', X86), (e) => e instanceof NixFormatError && e.code === 'BAD_MACHINES' && /no file reader/.test(e.message));
  const loop = { ...X86, readFile: (p: string) => (p === '/a' ? '@/b' : '@/a') };
  assert.throws(() => parseMachines('@/a', loop), (e) => e instanceof NixFormatError && e.code === 'BAD_MACHINES' && /includes itself/.test(e.message));
  const failing = { ...X86, readFile: () => { throw new Error('EACCES'); } };
  assert.throws(() => parseMachines('@/secret', failing), (e) => e instanceof NixFormatError && e.code === 'BAD_MACHINES' && /EACCES/.test(e.message));
});

test('bad specs are BAD_MACHINES errors naming the source, line and field', () => {
  const cases: Array<[string, string, RegExp]> = [
    ['ssh://a\nssh://b - - many', 'builders line 2 field 4 (max jobs)', /'many' is not an unsigned 32-bit integer/],
    ['ssh://b - - -1', 'builders line 1 field 4 (max jobs)', /unsigned/],
    ['ssh://b - - 4294967296', 'builders line 1 field 4 (max jobs)', /unsigned/],
    ['ssh://b - - 1 fast', 'builders line 1 field 5 (speed factor)', /'fast'/],
    ['ssh://b - - 1 1.5', 'builders line 1 field 5 (speed factor)', /'1.5'/],
    ['ssh://b - - 1 1 - - not*base64', 'builders line 1 field 8 (public host key)', /not valid base64/],
    ['- x86_64-linux', 'builders line 1 field 1 (store URI)', /store URI is missing/],
    ['ssh://b?remote-program=/bin/farm --stdio x86_64-linux - 1 1 - - AAAA', 'builders line 1 field 9 (extra)', /more than 8 fields/],
  ];
  for (const [text, field, message] of cases) {
    assert.throws(
      () => parseMachines(text, X86),
      (e: unknown) => e instanceof NixFormatError && e.code === 'BAD_MACHINES' && e.field === field && message.test(e.message),
      text,
    );
  }
  // Nix's base64 check: padding optional, '=' ends the data.
  assert.equal(parseMachines('ssh://b - - 1 1 - - c3NoLWVk', X86)[0]!.publicHostKey, 'c3NoLWVk');
  assert.equal(parseMachines('ssh://b - - 1 1 - - c3NoLWVkMg', X86)[0]!.publicHostKey, 'c3NoLWVkMg');
  const inFile = { ...X86, readFile: () => 'ssh://ok\nssh://bad - - x' };
  assert.throws(() => parseMachines('@/etc/nix/machines', inFile), (e) => e instanceof NixFormatError && e.field === '/etc/nix/machines line 2 field 4 (max jobs)');
});

const m = (spec: string): Machine => parseMachines(spec, X86)[0]!;
const states = (...ms: Array<[Machine, number] | Machine>): MachineSlotState[] =>
  ms.map((x) => (Array.isArray(x) ? { machine: x[0], load: x[1] } : { machine: x, load: 0 }));

test('eligibility: system (or builtin), supported ∪ mandatory ⊇ required, mandatory ⊆ required', () => {
  const big = m('ssh://a x86_64-linux - 1 1 big-parallel,kvm');
  const special = m('ssh://b x86_64-linux - 1 1 big-parallel farm-special');
  const need = (system: string, ...features: string[]) => ({ system, requiredFeatures: features });
  assert.equal(isMachineEligible(big, need('x86_64-linux')), true);
  assert.equal(isMachineEligible(big, need('aarch64-linux')), false);
  assert.equal(isMachineEligible(big, need('builtin')), true);
  assert.equal(isMachineEligible(big, need('x86_64-linux', 'kvm', 'big-parallel')), true);
  assert.equal(isMachineEligible(big, need('x86_64-linux', 'kvm', 'nixos-test')), false);
  assert.equal(isMachineEligible(special, need('x86_64-linux')), false, 'mandatory feature not asked for');
  assert.equal(isMachineEligible(special, need('x86_64-linux', 'big-parallel')), false);
  assert.equal(isMachineEligible(special, need('x86_64-linux', 'farm-special')), true);
  assert.equal(isMachineEligible(special, need('x86_64-linux', 'farm-special', 'big-parallel')), true);
  assert.equal(isMachineEligible(special, need('builtin', 'farm-special')), true);
});

test('choice: lowest load/speedFactor (integer division), then higher speed, then lower load, then list order', () => {
  const x = { system: 'x86_64-linux', requiredFeatures: [] };
  const a = m('ssh://a - - 4 1');
  const b = m('ssh://b - - 4 2');
  const c = m('ssh://c - - 4 3');
  const pick = (s: MachineSlotState[]) => {
    const r = chooseMachine(s, x, false);
    return r.kind === 'accept' ? r.machine.storeUri : r.kind;
  };
  assert.equal(pick(states([a, 1], [b, 1])), 'ssh://b', '1/1=1 vs 1/2=0');
  assert.equal(pick(states([a, 0], [b, 1])), 'ssh://b', 'tie at 0: higher speed wins');
  assert.equal(pick(states([b, 3], [c, 2])), 'ssh://c', '3/2=1 vs 2/3=0');
  assert.equal(pick(states([b, 1], [m('ssh://b2 - - 4 2'), 0])), 'ssh://b2', 'same speed, same quotient: lower load');
  assert.equal(pick(states([a, 2], [m('ssh://a2 - - 4 1'), 2])), 'ssh://a', 'full tie: first in the list');
  assert.equal(pick(states([a, 4], [m('ssh://full - - 1 9'), 1], [m('ssh://last - - 9 1'), 8])), 'ssh://last', 'machines without a free slot are skipped');
  const r = chooseMachine(states(a, b), x, false);
  assert.equal(r.kind === 'accept' ? r.index : -1, 1);
  assert.equal(pick([{ machine: b, load: 0, enabled: false }, { machine: a, load: 3 }]), 'ssh://a', 'disabled machines are skipped');
});

test('no free eligible machine: postpone unless it can be built locally; none eligible: decline; no machines: decline-permanently', () => {
  const x = { system: 'x86_64-linux', requiredFeatures: [] };
  const busy = states([m('ssh://a - - 2 1'), 2]);
  assert.deepEqual(chooseMachine(busy, x, false), { kind: 'postpone' });
  assert.deepEqual(chooseMachine(busy, x, true), { kind: 'decline' });
  assert.deepEqual(chooseMachine(states(m('ssh://a aarch64-linux')), x, false), { kind: 'decline' });
  assert.deepEqual(chooseMachine(states(m('ssh://a - - 0')), x, false), { kind: 'postpone' }, 'maxJobs 0 never has a free slot');
  assert.deepEqual(chooseMachine([{ machine: m('ssh://a'), load: 0, enabled: false }], x, false), { kind: 'decline' });
  assert.deepEqual(chooseMachine([], x, false), { kind: 'decline-permanently' });
});

test('canBuildLocally: willing, local or extra platform, all features local', () => {
  const local = { amWilling: true, thisSystem: 'x86_64-linux', extraPlatforms: ['i686-linux'], systemFeatures: ['kvm', 'big-parallel'] };
  assert.equal(canBuildLocally(local, { system: 'x86_64-linux', requiredFeatures: ['kvm'] }), true);
  assert.equal(canBuildLocally(local, { system: 'i686-linux', requiredFeatures: [] }), true);
  assert.equal(canBuildLocally(local, { system: 'aarch64-linux', requiredFeatures: [] }), false);
  assert.equal(canBuildLocally(local, { system: 'x86_64-linux', requiredFeatures: ['farm-special'] }), false);
  assert.equal(canBuildLocally({ ...local, amWilling: false }, { system: 'x86_64-linux', requiredFeatures: [] }), false);
});

test('the no-machine message lists the request and every machine like Nix', () => {
  const ms = parseMachines('ssh://a x86_64-linux,i686-linux - 2 1 kvm,big-parallel; ssh://b aarch64-linux - 1 1 - benchmark', X86);
  assert.equal(
    formatNoMachineMessage('abc-x.drv', 'x86_64-linux', ['nixos-test', 'kvm', 'kvm'], ms),
    [
      'Failed to find a machine for remote build!',
      'derivation: abc-x.drv',
      'required (system, features): (x86_64-linux, kvm, nixos-test)',
      '2 available machines:',
      '(systems, maxjobs, supportedFeatures, mandatoryFeatures)',
      '(x86_64-linux, i686-linux, 2, big-parallel, kvm, )',
      '(aarch64-linux, 1, , benchmark)',
    ].join('\n'),
  );
});
