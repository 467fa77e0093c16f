/** PhaseTimer: each mark closes the running phase; a phase marked twice adds up. */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { PhaseTimer } from '../src/session/phase-timer.js';

test('phases are the time between marks, in whole ms, and repeated phases add up', () => {
  let now = 100;
  const t = new PhaseTimer(() => now);
  now = 104.4;
  t.mark('fetch');
  now = 130;
  t.mark('build');
  now = 131;
  t.mark('fetch');
  assert.deepEqual(t.get(), { fetch: 5, build: 26 });
});
