/**
 * A strict parser of the Prometheus text exposition format 0.0.4 (what `/metrics` serves), for
 * tests: it rejects anything a scraper would reject or silently misread, so that a test that
 * parses a scrape proves the endpoint is well-formed, not only that some numbers are in it.
 *
 * Checked: metric and label names; label-value escapes (\\, \", \n only); values (floats,
 * +Inf, -Inf, NaN — in any case, as Go's ParseFloat, which Prometheus uses) and optional integer timestamps; at most one HELP and one TYPE per family,
 * TYPE before the family's first sample; every sample belongs to a declared family (a
 * histogram's _bucket/_sum/_count, a summary's quantiles/_sum/_count) and each family's samples
 * are contiguous; no duplicate series and no label named twice; counters are ≥ 0 and not NaN;
 * per histogram series, `le` bounds strictly increase, counts never decrease, the last bucket
 * is +Inf and equals _count, and _sum and _count are present; summaries have _sum and _count;
 * the text ends with a newline. The first violation throws PrometheusTextError naming the line.
 */

export type MetricType = 'counter' | 'gauge' | 'histogram' | 'summary' | 'untyped';

export interface Sample {
  /** The sample's own name (for a histogram: `x_bucket`, `x_sum` or `x_count`). */
  readonly name: string;
  readonly labels: Readonly<Record<string, string>>;
  readonly value: number;
  readonly timestamp?: number;
}

export interface MetricFamily {
  readonly name: string;
  readonly type: MetricType;
  readonly help: string;
  readonly samples: readonly Sample[];
}

export class PrometheusTextError extends Error {
  override readonly name = 'PrometheusTextError';
  constructor(
    readonly line: number,
    message: string,
  ) {
    super(`line ${line}: ${message}`);
  }
}

const METRIC_NAME = /^[a-zA-Z_:][a-zA-Z0-9_:]*$/;
const LABEL_NAME = /^[a-zA-Z_][a-zA-Z0-9_]*$/;
const TYPES: readonly MetricType[] = ['counter', 'gauge', 'histogram', 'summary', 'untyped'];

interface Building {
  name: string;
  type: MetricType | undefined;
  help: string | undefined;
  samples: Sample[];
  /** A sample was seen (TYPE may no longer follow). */
  started: boolean;
  /** Another family's sample came after this one's (its samples must be contiguous). */
  closed: boolean;
}

/** Parses a whole exposition; throws PrometheusTextError on the first problem. */
export function parsePrometheusText(text: string): Map<string, MetricFamily> {
  if (text.length > 0 && !text.endsWith('\n')) throw new PrometheusTextError(text.split('\n').length, 'the exposition must end with a newline');
  const families = new Map<string, Building>();
  const series = new Set<string>();
  let current: Building | undefined;
  const lines = text.split('\n');
  lines.pop(); // after the final newline
  const family = (name: string): Building => {
    let f = families.get(name);
    if (f === undefined) families.set(name, (f = { name, type: undefined, help: undefined, samples: [], started: false, closed: false }));
    return f;
  };
  for (const [i, line] of lines.entries()) {
    const n = i + 1;
    const fail = (message: string): never => {
      throw new PrometheusTextError(n, `${message}: ${JSON.stringify(line.slice(0, 200))}`);
    };
    if (line.trim() === '') continue;
    if (line.startsWith('#')) {
      const m = /^#\s+(HELP|TYPE)\s+(\S+)(?:\s(.*))?$/.exec(line);
      if (m === null) continue; // a plain comment
      const [, kind, name, rest = ''] = m as unknown as [string, string, string, string | undefined];
      if (!METRIC_NAME.test(name)) fail(`bad metric name '${name}'`);
      const f = family(name);
      if (f.closed) fail(`${kind} of ${name} after its samples ended`);
      if (kind === 'HELP') {
        if (f.help !== undefined) fail(`second HELP for ${name}`);
        f.help = unescapeHelp(rest, fail);
      } else {
        if (f.type !== undefined) fail(`second TYPE for ${name}`);
        if (f.started) fail(`TYPE of ${name} after its first sample`);
        const type = rest.trim() as MetricType;
        if (!TYPES.includes(type)) fail(`unknown type '${rest.trim()}'`);
        f.type = type;
      }
      continue;
    }
    const sample = parseSample(line, fail);
    const owner = ownerOf(sample.name, families);
    if (owner === undefined) fail(`sample ${sample.name} of no declared metric (no TYPE line)`);
    const f = owner!;
    if (f.closed) fail(`samples of ${f.name} are not contiguous`);
    if (current !== undefined && current !== f) current.closed = true;
    current = f;
    f.started = true;
    const key = seriesKey(sample);
    if (series.has(key)) fail(`duplicate series ${key}`);
    series.add(key);
    if (f.type === 'counter' && (Number.isNaN(sample.value) || sample.value < 0)) fail(`counter ${sample.name} is ${sample.value}`);
    if (f.type === 'histogram' && sample.name === `${f.name}_bucket` && sample.labels['le'] === undefined) fail(`histogram bucket without le`);
    if (f.type === 'summary' && sample.name === f.name && sample.labels['quantile'] === undefined) fail(`summary sample without quantile`);
    f.samples.push(sample);
  }
  const out = new Map<string, MetricFamily>();
  for (const f of families.values()) {
    if (f.type === undefined) throw new PrometheusTextError(0, `${f.name} has HELP but no TYPE`);
    if (f.type === 'histogram') checkHistogram(f);
    if (f.type === 'summary') checkSummary(f);
    out.set(f.name, { name: f.name, type: f.type, help: f.help ?? '', samples: f.samples });
  }
  return out;
}

/** The declared family a sample name belongs to. */
function ownerOf(name: string, families: Map<string, Building>): Building | undefined {
  const exact = families.get(name);
  if (exact?.type !== undefined && exact.type !== 'histogram') return exact;
  for (const suffix of ['_bucket', '_sum', '_count']) {
    if (!name.endsWith(suffix)) continue;
    const f = families.get(name.slice(0, -suffix.length));
    if (f?.type === 'histogram' || (f?.type === 'summary' && suffix !== '_bucket')) return f;
  }
  return undefined;
}

function parseSample(line: string, fail: (message: string) => never): Sample {
  const m = /^([a-zA-Z_:][a-zA-Z0-9_:]*)/.exec(line);
  if (m === null) fail('bad metric name');
  const name = m![1]!;
  let pos = name.length;
  const labels: Record<string, string> = {};
  if (line[pos] === '{') {
    pos++;
    for (;;) {
      if (line[pos] === '}') {
        pos++;
        break;
      }
      const ln = /^([a-zA-Z_][a-zA-Z0-9_]*)="/.exec(line.slice(pos));
      if (ln === null) fail('bad label');
      const labelName = ln![1]!;
      if (!LABEL_NAME.test(labelName) || labelName.startsWith('__')) fail(`bad label name '${labelName}'`);
      if (Object.hasOwn(labels, labelName)) fail(`label ${labelName} twice`);
      pos += ln![0].length;
      let value = '';
      for (;;) {
        const c = line[pos];
        if (c === undefined) fail('unterminated label value');
        if (c === '"') break;
        if (c === '\\') {
          const e = line[pos + 1];
          if (e === '\\') value += '\\';
          else if (e === '"') value += '"';
          else if (e === 'n') value += '\n';
          else fail(`bad escape \\${e ?? ''} in a label value`);
          pos += 2;
          continue;
        }
        value += c;
        pos++;
      }
      pos++; // the closing quote
      labels[labelName] = value;
      if (line[pos] === ',') pos++;
      else if (line[pos] !== '}') fail('expected , or } after a label');
    }
  }
  const rest = line.slice(pos);
  const parts = /^[ \t]+(\S+)(?:[ \t]+(\S+))?[ \t]*$/.exec(rest);
  if (parts === null) fail('expected a value after the name and labels');
  const value = parseValue(parts![1]!, fail);
  const ts = parts![2];
  if (ts !== undefined && !/^-?\d+$/.test(ts)) fail(`bad timestamp '${ts}'`);
  return { name, labels, value, ...(ts !== undefined ? { timestamp: Number(ts) } : {}) };
}

/** A float as Go's strconv.ParseFloat reads it (what Prometheus uses): NaN and ±Inf(inity) in any case. */
function parseValue(s: string, fail: (message: string) => never): number {
  if (/^[+]?inf(inity)?$/i.test(s)) return Infinity;
  if (/^-inf(inity)?$/i.test(s)) return -Infinity;
  if (/^nan$/i.test(s)) return NaN;
  if (!/^[-+]?(\d+\.?\d*|\.\d+)([eE][-+]?\d+)?$/.test(s)) fail(`bad value '${s}'`);
  return Number(s);
}

function unescapeHelp(s: string, fail: (message: string) => never): string {
  return s.replace(/\\(.?)/g, (_, e: string) => (e === '\\' ? '\\' : e === 'n' ? '\n' : fail(`bad escape \\${e} in HELP`)));
}

function seriesKey(s: Sample): string {
  const labels = Object.keys(s.labels)
    .sort()
    .map((k) => `${k}=${JSON.stringify(s.labels[k])}`);
  return `${s.name}{${labels.join(',')}}`;
}

function withoutLabel(labels: Readonly<Record<string, string>>, drop: string): string {
  return Object.keys(labels)
    .filter((k) => k !== drop)
    .sort()
    .map((k) => `${k}=${JSON.stringify(labels[k])}`)
    .join(',');
}

function checkHistogram(f: Building): void {
  const groups = new Map<string, { buckets: { le: number; count: number }[]; sum?: number; count?: number }>();
  const group = (key: string) => {
    let g = groups.get(key);
    if (g === undefined) groups.set(key, (g = { buckets: [] }));
    return g;
  };
  for (const s of f.samples) {
    if (s.name === `${f.name}_bucket`) {
      const le = s.labels['le']!;
      const bound = le === '+Inf' ? Infinity : Number(le);
      if (le !== '+Inf' && !/^[-+]?(\d+\.?\d*|\.\d+)([eE][-+]?\d+)?$/.test(le)) throw new PrometheusTextError(0, `${f.name}: bad le "${le}"`);
      group(withoutLabel(s.labels, 'le')).buckets.push({ le: bound, count: s.value });
    } else if (s.name === `${f.name}_sum`) group(withoutLabel(s.labels, '')).sum = s.value;
    else if (s.name === `${f.name}_count`) group(withoutLabel(s.labels, '')).count = s.value;
    else throw new PrometheusTextError(0, `${f.name} is a histogram: ${s.name} does not belong to it`);
  }
  for (const [key, g] of groups) {
    const where = `${f.name}{${key}}`;
    if (g.buckets.length === 0) throw new PrometheusTextError(0, `${where} has no buckets`);
    for (let i = 1; i < g.buckets.length; i++) {
      if (!(g.buckets[i]!.le > g.buckets[i - 1]!.le)) throw new PrometheusTextError(0, `${where}: le bounds do not increase (${g.buckets[i - 1]!.le} then ${g.buckets[i]!.le})`);
      if (g.buckets[i]!.count < g.buckets[i - 1]!.count) throw new PrometheusTextError(0, `${where}: bucket counts decrease at le=${g.buckets[i]!.le}`);
    }
    const last = g.buckets[g.buckets.length - 1]!;
    if (last.le !== Infinity) throw new PrometheusTextError(0, `${where}: the last bucket is le=${last.le}, not +Inf`);
    if (g.count === undefined || g.sum === undefined) throw new PrometheusTextError(0, `${where}: _sum or _count missing`);
    if (last.count !== g.count) throw new PrometheusTextError(0, `${where}: the +Inf bucket (${last.count}) differs from _count (${g.count})`);
  }
}

function checkSummary(f: Building): void {
  const keys = new Map<string, { sum: boolean; count: boolean }>();
  for (const s of f.samples) {
    const key = withoutLabel(s.labels, 'quantile');
    const k = keys.get(key) ?? { sum: false, count: false };
    if (s.name === `${f.name}_sum`) k.sum = true;
    if (s.name === `${f.name}_count`) k.count = true;
    keys.set(key, k);
  }
  for (const [key, k] of keys) if (!k.sum || !k.count) throw new PrometheusTextError(0, `${f.name}{${key}}: _sum or _count missing`);
}

/** Samples of `name` whose labels include `match` (name is the sample's name, e.g. `x_count`). */
export function samplesOf(families: ReadonlyMap<string, MetricFamily>, name: string, match: Readonly<Record<string, string>> = {}): Sample[] {
  const out: Sample[] = [];
  for (const f of families.values()) {
    for (const s of f.samples) {
      if (s.name === name && Object.entries(match).every(([k, v]) => s.labels[k] === v)) out.push(s);
    }
  }
  return out;
}

/** The sum of the matching samples' values (0 when there are none). */
export function sumOf(families: ReadonlyMap<string, MetricFamily>, name: string, match: Readonly<Record<string, string>> = {}): number {
  return samplesOf(families, name, match).reduce((n, s) => n + s.value, 0);
}
