/**
 * A parser for Debian `Packages` indices (deb822 stanzas), keeping only what the benchmark's
 * package graph needs. Pure: the file reading is in debian-dag.ts.
 */

export interface DebianPackage {
  readonly name: string;
  readonly version: string;
  /** `Installed-Size` in KiB (0 when absent). */
  readonly installedSizeKiB: number;
  /**
   * `Pre-Depends` then `Depends`, one entry per comma-separated group, each the group's
   * alternatives (`a | b` → ['a', 'b']) as bare package names: version constraints `(>= 1)`,
   * architecture qualifiers `:any`, and `[arch]` / `<profile>` restrictions removed.
   */
  readonly depends: readonly (readonly string[])[];
}

const WANTED = new Set(['package', 'version', 'installed-size', 'depends', 'pre-depends']);

/**
 * Parses every stanza with a `Package` field, in file order. Continuation lines (starting with
 * a space or tab) extend the field before them; unknown fields are skipped without copying.
 */
export function parseDebianPackages(text: string): DebianPackage[] {
  const out: DebianPackage[] = [];
  let fields = new Map<string, string>();
  let current: string | undefined; // the wanted field continuation lines extend
  const flush = () => {
    const pkg = stanzaToPackage(fields);
    if (pkg !== undefined) out.push(pkg);
    fields = new Map();
    current = undefined;
  };
  let start = 0;
  while (start <= text.length) {
    let end = text.indexOf('\n', start);
    if (end < 0) end = text.length;
    const line = text.charCodeAt(end - 1) === 13 ? text.slice(start, end - 1) : text.slice(start, end);
    start = end + 1;
    if (line.trim() === '') {
      if (fields.size > 0) flush();
      continue;
    }
    const first = line.charCodeAt(0);
    if (first === 32 || first === 9) {
      if (current !== undefined) fields.set(current, `${fields.get(current) ?? ''} ${line.trim()}`);
      continue;
    }
    const colon = line.indexOf(':');
    if (colon <= 0) {
      current = undefined;
      continue;
    }
    const key = line.slice(0, colon).toLowerCase();
    if (WANTED.has(key)) {
      fields.set(key, line.slice(colon + 1).trim());
      current = key;
    } else {
      current = undefined;
    }
  }
  if (fields.size > 0) flush();
  return out;
}

function stanzaToPackage(fields: ReadonlyMap<string, string>): DebianPackage | undefined {
  const name = fields.get('package');
  if (name === undefined || name === '') return undefined;
  const size = Number.parseInt(fields.get('installed-size') ?? '', 10);
  return {
    name,
    version: fields.get('version') ?? '',
    installedSizeKiB: Number.isFinite(size) && size > 0 ? size : 0,
    depends: [...parseRelations(fields.get('pre-depends')), ...parseRelations(fields.get('depends'))],
  };
}

/** `a (>= 1) | b:any, c [amd64] <!nocheck>` → [['a', 'b'], ['c']]. */
export function parseRelations(field: string | undefined): string[][] {
  if (field === undefined) return [];
  const groups: string[][] = [];
  for (const group of field.split(',')) {
    const alternatives: string[] = [];
    for (const alt of group.split('|')) {
      const name = alt
        .replace(/\([^)]*\)/g, ' ')
        .replace(/\[[^\]]*\]/g, ' ')
        .replace(/<[^>]*>/g, ' ')
        .trim()
        .split(/\s+/)[0]
        ?.split(':')[0];
      if (name !== undefined && name !== '') alternatives.push(name);
    }
    if (alternatives.length > 0) groups.push(alternatives);
  }
  return groups;
}
