import { test } from 'node:test';
import assert from 'node:assert/strict';
import { parseDoorCommand, splitCommandWords } from '../src/adapters/nix-door/door-command.js';

test('the commands Nix sends map to their protocols', () => {
  assert.deepEqual(parseDoorCommand('nix-store --serve --write'), { mode: 'serve-write' });
  assert.deepEqual(parseDoorCommand('nix-store --serve'), { mode: 'serve' });
  assert.deepEqual(parseDoorCommand('nix-daemon --stdio'), { mode: 'worker' });
  assert.deepEqual(parseDoorCommand('/nix/var/nix/profiles/default/bin/nix-store --serve --write'), { mode: 'serve-write' });
  assert.deepEqual(parseDoorCommand("nix-daemon --stdio --store 'auto'"), { mode: 'worker' });
  assert.deepEqual(parseDoorCommand('nix-daemon -- --stdio'), { mode: 'worker' }, 'Nix ≥ 2.20 puts -- before the words');
  assert.deepEqual(parseDoorCommand('farm nix-stdio --stdio'), { mode: 'worker' });
  assert.deepEqual(parseDoorCommand('/opt/farm/cli/bin/farm-nix-stdio --serve --write'), { mode: 'serve-write' });
});

test('anything else is refused with a message saying what is offered', () => {
  for (const c of ['', 'bash', 'nix-store --serve --write --verbose', 'nix-daemon', 'nix-store --stdio', 'rm -rf /', "nix-store --serve 'unterminated"]) {
    const r = parseDoorCommand(c);
    assert.ok('error' in r, `'${c}' is refused`);
  }
  const r = parseDoorCommand('nix-daemon --stdio --store /tmp/other');
  assert.ok('error' in r && r.error.includes('one store'));
  const u = parseDoorCommand('ls -la');
  assert.ok('error' in u && u.error.includes("nix-store --serve") && u.error.includes('ls -la'));
});

test('words split like a shell for the quoting Nix uses', () => {
  assert.deepEqual(splitCommandWords(`a 'b c' "d \\"e\\"" f\\ g`), ['a', 'b c', 'd "e"', 'f g']);
  assert.deepEqual(splitCommandWords("x ''"), ['x', '']);
  assert.equal(splitCommandWords("'open"), undefined);
});
