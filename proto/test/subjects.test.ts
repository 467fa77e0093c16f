import { test } from 'node:test';
import assert from 'node:assert/strict';
import { STREAMS, SUBJECTS, resultMessageId } from '../src/index.js';

test('per-agent and per-job subjects fall under their streams', () => {
  assert.equal(SUBJECTS.results('agent_1'), 'farm.results.agent_1');
  assert.equal(SUBJECTS.logs('job_7'), 'farm.logs.job_7');
  assert.equal(SUBJECTS.control('agent_1'), 'farm.agent.agent_1.control');
  assert.ok(SUBJECTS.results('a').startsWith(STREAMS.results.subjects[0].replace('>', '')));
  assert.ok(SUBJECTS.logs('j').startsWith(STREAMS.logs.subjects[0].replace('>', '')));
  assert.equal(resultMessageId('job_7', 3n), 'job_7:3');
});

test('ids that would break subject routing are refused', () => {
  for (const bad of ['', 'a.b', 'a*', 'a>', 'a b']) assert.throws(() => SUBJECTS.logs(bad), /cannot be used in a NATS subject/);
});
