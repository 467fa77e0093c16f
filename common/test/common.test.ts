import { test } from 'node:test';
import assert from 'node:assert/strict';
import { Writable } from 'node:stream';
import { z } from 'zod';
import { ManualClock, compileConfig, createLogger, durationMs, isFarmError, newJobId, sequentialIds } from '../src/index.js';

const schema = z.strictObject({
  listen: z.string().default('127.0.0.1:7420'),
  leaseTimeout: durationMs.default(15_000),
  agent: z.strictObject({ maxJobs: z.number().int().positive().default(1) }).prefault({}),
});

test('compileConfig fills defaults and converts units', () => {
  const c = compileConfig(schema, { leaseTimeout: '2m' });
  assert.deepEqual(c, { listen: '127.0.0.1:7420', leaseTimeout: 120_000, agent: { maxJobs: 1 } });
});

test('compileConfig rejects unknown keys naming them, with their path', () => {
  assert.throws(
    () => compileConfig(schema, { lisen: 'x', agent: { maxJob: 2 } }, 'coordinator.json'),
    (e) => isFarmError(e, 'INVALID_CONFIG') && /'lisen'/.test(e.message) && /'agent\.maxJob'/.test(e.message) && /coordinator\.json/.test(e.message),
  );
});

test('compileConfig names the field of a bad value', () => {
  assert.throws(
    () => compileConfig(schema, { leaseTimeout: 'soon' }),
    (e) => isFarmError(e, 'INVALID_CONFIG') && /leaseTimeout/.test(e.message),
  );
});

test('ManualClock only moves when told and never backwards', () => {
  const clock = new ManualClock(1000);
  clock.advance(500);
  assert.equal(clock.now(), 1500);
  assert.throws(() => clock.advance(-1), RangeError);
});

test('sequential ids are deterministic per prefix', () => {
  const ids = sequentialIds();
  assert.equal(newJobId(ids), 'job_1');
  assert.equal(newJobId(ids), 'job_2');
  assert.equal(ids.next('sub'), 'sub_1');
});

test('the logger writes one JSON object per line with name and level', async () => {
  const lines: string[] = [];
  const sink = new Writable({ write(chunk, _enc, cb) { lines.push(String(chunk)); cb(); } });
  const log = createLogger({ name: 'coordinator', level: 'debug' }, sink);
  log.debug({ job: 'job_1' }, 'assigned');
  await new Promise((r) => setImmediate(r));
  const rec = JSON.parse(lines[0]!);
  assert.equal(rec.name, 'coordinator');
  assert.equal(rec.level, 20);
  assert.equal(rec.job, 'job_1');
  assert.equal(rec.msg, 'assigned');
});

test("one log line's fields do not carry over into the next (pino merges them into the mixin's object)", async () => {
  const lines: string[] = [];
  const sink = new Writable({ write(chunk, _enc, cb) { lines.push(String(chunk)); cb(); } });
  const log = createLogger({ name: 'agent' }, sink);
  log.info({ url: 'http://a', leaseMs: 1 }, 'first');
  log.child({ component: 'c' }).info({ path: '/p' }, 'second');
  log.info('third');
  await new Promise((r) => setImmediate(r));
  const [first, second, third] = lines.map((l) => JSON.parse(l) as Record<string, unknown>);
  assert.equal(first?.['url'], 'http://a');
  assert.equal(second?.['url'], undefined);
  assert.equal(second?.['path'], '/p');
  assert.equal(third?.['url'], undefined);
  assert.equal(third?.['path'], undefined);
  assert.equal(third?.['component'], undefined);
});
