/**
 * Nix's `builders` setting / machines file syntax (spec §8.1; Nix 2.8 src/libstore/machines.cc).
 *
 * The text is split into specs on '\n' and ';' first; each spec is trimmed and cut at its
 * first '#' (so, as in Nix, a comment ends at the next ';' as well as at the line end). A spec
 * `@<file>` is replaced by the specs of that file (missing file = none). A spec is up to 8
 * whitespace-separated fields; `-` means "default":
 *   uri  systems(,)  sshKey  maxJobs  speedFactor  supportedFeatures(,)  mandatoryFeatures(,)  base64 host key
 *
 * Differences from Nix 2.8, all rejecting input that Nix misreads silently: more than 8 fields
 * is an error (Nix ignores the extras, usually an unencoded space in the URI); an include cycle
 * is an error (Nix recurses forever). Errors name the source, line and field. Linear in the
 * size of the text plus included files.
 */
import { NixFormatError } from '../errors.js';

export interface Machine {
  /** Store URI after Nix's normalisation (a bare host gets `ssh://`). */
  readonly storeUri: string;
  /** Systems it builds for, in the order given. */
  readonly systems: readonly string[];
  readonly sshKey?: string;
  readonly maxJobs: number;
  /** At least 1 (Nix 2.8 raises 0 to 1). */
  readonly speedFactor: number;
  /** Sorted, deduplicated (Nix keeps them in a std::set). */
  readonly supportedFeatures: readonly string[];
  readonly mandatoryFeatures: readonly string[];
  /** Base64 of an OpenSSH public host key line. */
  readonly publicHostKey?: string;
}

export interface ParseMachinesOptions {
  /** Default for the systems field: the local `system` setting, e.g. `x86_64-linux`. */
  readonly thisSystem: string;
  /** Reads an `@file` include; returns undefined when the file does not exist. Absent = includes are an error. */
  readonly readFile?: (path: string) => string | undefined;
  /** Name of the text's origin for error messages (default `builders`). */
  readonly source?: string;
}

const FIELD_NAMES = ['store URI', 'systems', 'ssh identity file', 'max jobs', 'speed factor', 'supported features', 'mandatory features', 'public host key'] as const;
const U32_MAX = 0xffffffff;
const MAX_INCLUDE_DEPTH = 32;

export function parseMachines(text: string, options: ParseMachinesOptions): Machine[] {
  return parseSource(text, options, options.source ?? 'builders', []);
}

/** Nix's backwards-compatible URI rule: schemeless names that are not paths or store words become ssh://. */
export function normaliseMachineUri(uri: string): string {
  const keep =
    uri.includes('://') ||
    uri.includes('/') ||
    uri === 'auto' ||
    uri === 'daemon' ||
    uri === 'local' ||
    uri.startsWith('auto?') ||
    uri.startsWith('daemon?') ||
    uri.startsWith('local?') ||
    uri.startsWith('?');
  return keep ? uri : `ssh://${uri}`;
}

function parseSource(text: string, options: ParseMachinesOptions, source: string, includeStack: readonly string[]): Machine[] {
  const machines: Machine[] = [];
  text.split('\n').forEach((physicalLine, lineIndex) => {
    for (const rawSpec of physicalLine.split(';')) {
      const where = `${source} line ${lineIndex + 1}`;
      const spec = stripComment(rawSpec.trim());
      if (spec === '') continue;
      if (spec.startsWith('@')) {
        machines.push(...parseInclude(spec.slice(1).trim(), options, where, [...includeStack, source]));
        continue;
      }
      machines.push(parseSpec(spec, options.thisSystem, where));
    }
  });
  return machines;
}

function stripComment(spec: string): string {
  const hash = spec.indexOf('#');
  return hash < 0 ? spec : spec.slice(0, hash);
}

function parseInclude(path: string, options: ParseMachinesOptions, where: string, includeStack: readonly string[]): Machine[] {
  if (path === '') throw new NixFormatError('BAD_MACHINES', `${where}: '@' must be followed by a file name`, { field: where });
  if (options.readFile === undefined) throw new NixFormatError('BAD_MACHINES', `${where}: cannot include '${path}': no file reader given`, { field: where });
  if (includeStack.includes(path) || includeStack.length >= MAX_INCLUDE_DEPTH) {
    throw new NixFormatError('BAD_MACHINES', `${where}: machines file '${path}' includes itself (${[...includeStack, path].join(' -> ')})`, { field: where });
  }
  let text: string | undefined;
  try {
    text = options.readFile(path);
  } catch (e) {
    throw new NixFormatError('BAD_MACHINES', `${where}: cannot read machines file '${path}': ${e instanceof Error ? e.message : String(e)}`, { field: where, cause: e });
  }
  return text === undefined ? [] : parseSource(text, options, path, includeStack);
}

function parseSpec(spec: string, thisSystem: string, where: string): Machine {
  const tokens = spec.split(/[ \t\r\n]+/).filter((t) => t !== '');
  const fail = (index: number, problem: string): never => {
    const field = `${where} field ${index + 1} (${FIELD_NAMES[index] ?? 'extra'})`;
    throw new NixFormatError('BAD_MACHINES', `bad machine specification in ${field}: ${problem} in '${spec}'`, { field });
  };
  if (tokens.length > FIELD_NAMES.length) fail(FIELD_NAMES.length, `more than ${FIELD_NAMES.length} fields (write spaces in the URI as %20)`);
  const field = (i: number): string | undefined => {
    const t = tokens[i];
    return t === undefined || t === '-' ? undefined : t;
  };
  const uint = (i: number, dflt: number): number => {
    const t = field(i);
    if (t === undefined) return dflt;
    if (!/^[0-9]+$/.test(t) || Number(t) > U32_MAX) fail(i, `'${t}' is not an unsigned 32-bit integer`);
    return Number(t);
  };
  const list = (i: number): string[] => (field(i) ?? '').split(',').filter((s) => s !== '');
  const set = (i: number): string[] => [...new Set(list(i))].sort((a, b) => Buffer.compare(Buffer.from(a), Buffer.from(b)));

  const uri = field(0);
  if (uri === undefined) return fail(0, 'the store URI is missing');
  const systems = field(1) === undefined ? [thisSystem] : list(1);
  const sshKey = field(2);
  const hostKey = field(7);
  if (hostKey !== undefined && !isNixBase64(hostKey)) fail(7, `'${hostKey}' is not valid base64`);
  return {
    storeUri: normaliseMachineUri(uri),
    systems,
    ...(sshKey !== undefined ? { sshKey } : {}),
    maxJobs: uint(3, 1),
    speedFactor: Math.max(1, uint(4, 1)),
    supportedFeatures: set(5),
    mandatoryFeatures: set(6),
    ...(hostKey !== undefined ? { publicHostKey: hostKey } : {}),
  };
}

/** Nix's base64Decode accepts this: alphabet characters up to the first '=' (padding optional). */
function isNixBase64(s: string): boolean {
  const eq = s.indexOf('=');
  const body = eq < 0 ? s : s.slice(0, eq);
  return /^[A-Za-z0-9+/]*$/.test(body);
}
