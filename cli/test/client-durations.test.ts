/** Duration flags (`--timeout 10m`) and the time/byte formats of the progress view. */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { isFarmError } from '@farm/common';
import { formatAge, formatBytes, formatElapsed, parseDuration } from '../src/client/durations.js';

test('durations: units, combinations, bare seconds, zero', () => {
  assert.equal(parseDuration('30s'), 30_000);
  assert.equal(parseDuration('10m'), 600_000);
  assert.equal(parseDuration('1h30m'), 5_400_000);
  assert.equal(parseDuration('500ms'), 500);
  assert.equal(parseDuration('2d'), 172_800_000);
  assert.equal(parseDuration('90'), 90_000);
  assert.equal(parseDuration('0'), 0);
});

test('durations: anything else is INVALID_ARGUMENT naming the option', () => {
  for (const bad of ['', '10 m', '1.5h', '-3s', 'm', '10x', '5m3']) {
    assert.throws(() => parseDuration(bad, '--timeout'), (e) => isFarmError(e, 'INVALID_ARGUMENT') && e.message.includes('--timeout'), bad);
  }
});

test('formats: elapsed, age, bytes', () => {
  assert.equal(formatElapsed(0), '0:00');
  assert.equal(formatElapsed(7_900), '0:07');
  assert.equal(formatElapsed(62_000), '1:02');
  assert.equal(formatElapsed(3_723_000), '1:02:03');
  assert.equal(formatAge(3_000), '3s');
  assert.equal(formatAge(600_000), '10m');
  assert.equal(formatAge(10_800_000), '3h');
  assert.equal(formatBytes(512), '512 B');
  assert.equal(formatBytes(1536), '1.5 KiB');
  assert.equal(formatBytes(200 * 1024 * 1024), '200 MiB');
});
