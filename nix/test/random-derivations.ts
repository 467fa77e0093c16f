/**
 * Generates one `.nix` file with many random `builtins.derivation`s for the cross-check against
 * the real nix-instantiate: chains and diamonds through explicit outputs (`${d3.dev}`), multiple
 * outputs, fixed outputs (flat/recursive × sha256/sha1/sha512, hash in base16/nix32/SRI),
 * `builtins.toFile` sources (some referring to each other), env values and names needing
 * escapes or exercising bytewise order (quotes, backslashes, newline, tab, CR, control bytes,
 * `$`, é, CJK, U+FF5E vs an astral emoji). Deterministic for a given seed.
 */
import { Hash, type HashAlgo } from '../src/index.js';
import { prng } from './prng.js';

/** A Nix double-quoted string literal for `s` (no interpolation). */
export function nixString(s: string): string {
  return `"${s.replace(/[\\"$\n\r\t]/g, (c) => ({ '\\': '\\\\', '"': '\\"', $: '\\$', '\n': '\\n', '\r': '\\r', '\t': '\\t' })[c]!)}"`;
}

const ODD_PIECES = ['"', '\\', '\n', '\t', '\r', '$', '${', 'é', '日本', '😀', '\u{ff5e}', '\x01', '\x7f', "''", ' ', 'plain', '{}', '/nix/store'];
const ODD_NAMES = ['A', 'a', 'Z_1', 'é', '😀', '\u{ff5e}', 'with space', 'quote"name', 'back\\slash', 'x-y.z', '_', '0'];
const SYSTEMS = ['x86_64-linux', 'aarch64-linux', 'i686-linux', 'x86_64-darwin'];
const MULTI_OUTPUTS = [['out', 'dev'], ['bin', 'dev', 'out'], ['out', 'lib', 'doc'], ['dev', 'out']];
const NAME_CHARS = 'abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789+-._?=';

export interface GeneratedSet {
  readonly seed: number;
  readonly expression: string;
  readonly count: number;
}

export function generateDerivations(seed: number, count: number): GeneratedSet {
  const rand = prng(seed);
  const int = (n: number) => Math.floor(rand() * n);
  const pick = <T>(xs: readonly T[]): T => xs[int(xs.length)]!;
  const oddString = () => Array.from({ length: 1 + int(5) }, () => pick(ODD_PIECES)).join('');

  const lines: string[] = ['let'];
  const srcCount = 20;
  for (let s = 0; s < srcCount; s++) {
    const ref = s > 0 && rand() < 0.4 ? ` refers to \${src${int(s)}}` : '';
    lines.push(`  src${s} = builtins.toFile "src-${s}.txt" (${nixString(`source ${s} ${oddString()}`)} + "${ref}");`);
  }
  const outputsOf: string[][] = [];
  for (let i = 0; i < count; i++) {
    const fixed = i > 0 && rand() < 0.2;
    const outputs = !fixed && rand() < 0.25 ? pick(MULTI_OUTPUTS) : ['out'];
    outputsOf.push(outputs);
    const suffix = Array.from({ length: 1 + int(6) }, () => pick([...NAME_CHARS])).join('');
    const attrs: string[] = [
      `name = "r${i}-${suffix}";`,
      `system = ${nixString(pick(SYSTEMS))};`,
      'builder = "/bin/sh";',
    ];
    // References to earlier derivations (chains, diamonds) and to sources.
    const refs: string[] = [];
    for (let k = int(i === 0 ? 1 : 5); k > 0; k--) {
      const j = int(i);
      refs.push(`\${d${j}.${pick(outputsOf[j]!)}}`);
    }
    for (let k = int(3); k > 0; k--) refs.push(`\${src${int(srcCount)}}`);
    const script = `${nixString(`echo ${oddString()} > $out`).slice(0, -1)} ${refs.join(' ')}"`;
    attrs.push(`args = [ "-c" ${script} ${nixString(oddString())} ];`);
    if (outputs.length > 1) attrs.push(`outputs = [ ${outputs.map((o) => `"${o}"`).join(' ')} ];`);
    if (fixed) attrs.push(...fixedOutputAttrs(int, pick, rand));
    const used = new Set<string>();
    if (i % 10 === 3) {
      // UTF-16 order puts the emoji (surrogates 0xD83D…) before U+FF5E; Nix's bytewise order is the reverse.
      for (const n of ['😀', '\u{ff5e}', 'é', 'Z_1', 'a']) {
        used.add(n);
        attrs.push(`${nixString(n)} = ${nixString(oddString())};`);
      }
    }
    for (let k = int(6); k > 0; k--) {
      const name = rand() < 0.5 ? pick(ODD_NAMES) : `v${int(1000)}`;
      if (used.has(name)) continue;
      used.add(name);
      attrs.push(`${nixString(name)} = ${randomValue(int, pick, oddString, i, outputsOf)};`);
    }
    if (rand() < 0.1) attrs.push('requiredSystemFeatures = [ "kvm" "big-parallel" ];');
    if (rand() < 0.1) attrs.push('preferLocalBuild = true; allowSubstitutes = false;');
    lines.push(`  d${i} = builtins.derivation { ${attrs.join(' ')} };`);
  }
  lines.push(`in { ${Array.from({ length: count }, (_, i) => `inherit d${i};`).join(' ')} }`);
  return { seed, expression: `${lines.join('\n')}\n`, count };
}

function randomValue(
  int: (n: number) => number,
  pick: <T>(xs: readonly T[]) => T,
  oddString: () => string,
  i: number,
  outputsOf: string[][],
): string {
  switch (int(7)) {
    case 0:
      return String(int(100000) - 500);
    case 1:
      return pick(['true', 'false', 'null']);
    case 2:
      return `[ ${nixString(oddString())} ${int(10)} true null ]`;
    case 3:
      if (i > 0) {
        const j = int(i);
        return `"see \${d${j}.${pick(outputsOf[j]!)}}"`;
      }
      return '""';
    default:
      return nixString(oddString());
  }
}

function fixedOutputAttrs(int: (n: number) => number, pick: <T>(xs: readonly T[]) => T, rand: () => number): string[] {
  const algo = pick<HashAlgo>(['sha256', 'sha1', 'sha512']);
  const mode = pick(['flat', 'recursive']);
  const h = Hash.of(algo, `fixed content ${int(1e9)} ${rand()}`);
  const encoding = pick(['base16', 'nix32', 'sri'] as const);
  const attrs = [`outputHashMode = "${mode}";`, `outputHash = "${h.encode(encoding)}";`];
  if (encoding !== 'sri' || rand() < 0.5) attrs.push(`outputHashAlgo = "${algo}";`);
  return attrs;
}
