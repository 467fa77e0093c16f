/**
 * The strict exposition parser: well-formed text parses to the right families and values; each
 * kind of malformation is rejected (prom-client's own output is parsed in coordinator/test/metrics.test.ts).
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { parsePrometheusText, PrometheusTextError, samplesOf, sumOf } from '../src/prometheus-text.js';

const GOOD = `# HELP farm_builds_total Builds by outcome.
# TYPE farm_builds_total counter
farm_builds_total{outcome="built"} 3
farm_builds_total{outcome="failed"} 1

# A plain comment.
# HELP farm_queue_depth Ready jobs, with a \\\\ and a \\n in its help.
# TYPE farm_queue_depth gauge
farm_queue_depth{system="x86_64-linux",features="big-parallel,kvm"} 0
farm_queue_depth{system="odd \\"quoted\\" \\\\ new\\nline",features=""} -2.5e-1 1700000000000
# TYPE farm_wait_seconds histogram
farm_wait_seconds_bucket{le="0.1"} 1
farm_wait_seconds_bucket{le="1"} 2
farm_wait_seconds_bucket{le="+Inf"} 3
farm_wait_seconds_sum 7.5
farm_wait_seconds_count 3
# TYPE rpc_seconds summary
rpc_seconds{quantile="0.5"} NaN
rpc_seconds_sum 0
rpc_seconds_count 0
# TYPE t untyped
t{a="b",} +Inf
t{a="c"} Nan
t{a="d"} -inf
`;

test('well-formed text: families, types, help, labels with escapes, values and timestamps', () => {
  const f = parsePrometheusText(GOOD);
  assert.deepEqual([...f.keys()], ['farm_builds_total', 'farm_queue_depth', 'farm_wait_seconds', 'rpc_seconds', 't']);
  assert.equal(f.get('farm_builds_total')?.type, 'counter');
  assert.equal(f.get('farm_queue_depth')?.help, 'Ready jobs, with a \\ and a \n in its help.');
  assert.equal(sumOf(f, 'farm_builds_total'), 4);
  assert.equal(sumOf(f, 'farm_builds_total', { outcome: 'failed' }), 1);
  const odd = samplesOf(f, 'farm_queue_depth', { features: '' })[0];
  assert.equal(odd?.labels['system'], 'odd "quoted" \\ new\nline');
  assert.equal(odd?.value, -0.25);
  assert.equal(odd?.timestamp, 1700000000000);
  assert.equal(sumOf(f, 'farm_wait_seconds_count'), 3);
  assert.ok(Number.isNaN(samplesOf(f, 'rpc_seconds')[0]?.value));
  assert.equal(samplesOf(f, 't')[0]?.value, Infinity);
  assert.ok(Number.isNaN(samplesOf(f, 't', { a: 'c' })[0]?.value), "prom-client writes 'Nan'; Go's ParseFloat reads it");
  assert.equal(samplesOf(f, 't', { a: 'd' })[0]?.value, -Infinity);
  assert.equal(sumOf(f, 'no_such_metric'), 0);
});

const BAD: [string, string, RegExp][] = [
  ['no final newline', '# TYPE a gauge\na 1', /end with a newline/],
  ['sample without TYPE', 'a 1\n', /no declared metric/],
  ['HELP without TYPE', '# HELP a x\n', /no TYPE/],
  ['two TYPEs', '# TYPE a gauge\n# TYPE a counter\na 1\n', /second TYPE/],
  ['two HELPs', '# HELP a x\n# HELP a y\n# TYPE a gauge\n', /second HELP/],
  ['TYPE after samples', '# TYPE a gauge\na 1\n# TYPE b gauge\nb 1\n# TYPE a counter\n', /after its samples ended|second TYPE/],
  ['unknown type', '# TYPE a meter\n', /unknown type/],
  ['bad metric name', '# TYPE 1a gauge\n', /bad metric name/],
  ['bad label name', '# TYPE a gauge\na{1x="v"} 1\n', /bad label/],
  ['reserved label name', '# TYPE a gauge\na{__x="v"} 1\n', /bad label name/],
  ['bad escape', '# TYPE a gauge\na{x="\\t"} 1\n', /bad escape/],
  ['unterminated label value', '# TYPE a gauge\na{x="v} 1\n', /unterminated/],
  ['missing comma', '# TYPE a gauge\na{x="v" y="w"} 1\n', /expected , or \}/],
  ['label twice', '# TYPE a gauge\na{x="v",x="w"} 1\n', /twice/],
  ['no value', '# TYPE a gauge\na{x="v"}\n', /expected a value/],
  ['bad value', '# TYPE a gauge\na 1,5\n', /bad value/],
  ['bad timestamp', '# TYPE a gauge\na 1 12.5\n', /bad timestamp/],
  ['duplicate series', '# TYPE a gauge\na{x="1",y="2"} 1\na{y="2",x="1"} 2\n', /duplicate series/],
  ['non-contiguous family', '# TYPE a gauge\n# TYPE b gauge\na{x="1"} 1\nb 1\na{x="2"} 1\n', /not contiguous/],
  ['negative counter', '# TYPE a_total counter\na_total -1\n', /counter a_total is -1/],
  ['NaN counter', '# TYPE a_total counter\na_total NaN\n', /counter a_total is NaN/],
  ['bucket without le', '# TYPE h histogram\nh_bucket 1\nh_sum 1\nh_count 1\n', /without le/],
  ['histogram with a plain sample', '# TYPE h histogram\nh 1\n', /no declared metric/],
  ['le not increasing', '# TYPE h histogram\nh_bucket{le="1"} 1\nh_bucket{le="0.5"} 1\nh_bucket{le="+Inf"} 1\nh_sum 1\nh_count 1\n', /do not increase/],
  ['counts decreasing', '# TYPE h histogram\nh_bucket{le="1"} 2\nh_bucket{le="+Inf"} 1\nh_sum 1\nh_count 1\n', /decrease/],
  ['no +Inf bucket', '# TYPE h histogram\nh_bucket{le="1"} 1\nh_sum 1\nh_count 1\n', /not \+Inf/],
  ['+Inf differs from _count', '# TYPE h histogram\nh_bucket{le="+Inf"} 2\nh_sum 1\nh_count 3\n', /differs from _count/],
  ['histogram without _count', '# TYPE h histogram\nh_bucket{le="+Inf"} 2\nh_sum 1\n', /_sum or _count missing/],
  ['bad le', '# TYPE h histogram\nh_bucket{le="x"} 1\nh_bucket{le="+Inf"} 1\nh_sum 1\nh_count 1\n', /bad le/],
  ['summary without quantile', '# TYPE s summary\ns 1\ns_sum 1\ns_count 1\n', /without quantile/],
  ['summary without _sum', '# TYPE s summary\ns{quantile="0.5"} 1\ns_count 1\n', /_sum or _count missing/],
];

for (const [what, text, message] of BAD) {
  test(`rejected: ${what}`, () => {
    assert.throws(() => parsePrometheusText(text), (e: unknown) => e instanceof PrometheusTextError && message.test(e.message));
  });
}
