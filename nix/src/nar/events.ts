/**
 * The NAR reader's core: an async generator of events for one NAR read from a ByteSource.
 *
 * Invariants:
 * - Consumes exactly the NAR's bytes and not one more (so NARs embedded in protocol streams
 *   work); narHash/narSize cover exactly those bytes.
 * - Accepts only canonical NARs, the form `nix-store --dump` writes (fields in the order
 *   type, executable, contents / target / entries); anything else is `BAD_NAR` with an offset.
 * - Entry names are validated (`NAR_UNSAFE_PATH` for empty, `.`, `..`, `/` or NUL) and must be
 *   strictly increasing bytewise (`BAD_NAR` for unsorted or duplicate names).
 * - Nesting uses an explicit stack (depth limited by `maxDepth`), never JS recursion, so a
 *   100,000-deep NAR cannot overflow the call stack.
 * - File contents are streamed in bounded chunks; every input length is checked against the
 *   limits before it is read.
 * Complexity: O(NAR bytes) time; memory O(depth + max token + chunk size).
 */
import { NixFormatError } from '../errors.js';
import type { ByteSource } from '../io/byte-source.js';
import type { Hash } from '../hash/hash.js';
import { resolveLimits, type NarLimits } from './limits.js';
import { NarInput } from './nar-input.js';
import { KW, encodeToken } from './wire.js';

const seq = (...tokens: string[]): Buffer => Buffer.concat(tokens.map((t) => encodeToken(t)));
const OPEN_TYPE = seq('(', 'type');
const NODE_OPEN_TYPE = seq('node', '(', 'type');
const OPEN_NAME = seq('(', 'name');
const CLOSE = seq(')');
const CLOSE_CLOSE = seq(')', ')');

/**
 * `depth` is the number of directories above the node (0 for the NAR's root); `name` is the
 * entry name (raw bytes) or null for the root. A node's full path is the names of the enclosing
 * `directory` events plus its own name.
 */
export type NarEvent =
  | { readonly type: 'directory'; readonly depth: number; readonly name: Uint8Array | null }
  | { readonly type: 'directoryEnd'; readonly depth: number }
  | { readonly type: 'file'; readonly depth: number; readonly name: Uint8Array | null; readonly executable: boolean; readonly size: number }
  | { readonly type: 'contents'; readonly chunk: Uint8Array }
  | { readonly type: 'fileEnd'; readonly depth: number }
  | { readonly type: 'symlink'; readonly depth: number; readonly name: Uint8Array | null; readonly target: Uint8Array };

export interface NarReadOptions {
  readonly limits?: Partial<NarLimits>;
  /** Called with every raw NAR byte, in order (to copy/forward the NAR while parsing it). */
  readonly onRaw?: (bytes: Uint8Array) => void;
  /** Require the source to end right after the NAR (`BAD_NAR` "trailing bytes" otherwise). */
  readonly requireEnd?: boolean;
}

export interface NarReadResult {
  readonly narHash: Hash;
  readonly narSize: number;
}

const NODE_TYPES = [KW.regular, KW.symlink, KW.directory] as const;
const FILE_FIELDS = [KW.executable, KW.contents] as const;
const DIR_FIELDS = [KW.entry, KW.close] as const;

/** Yields the events of one NAR; the generator's return value is {narHash, narSize}. */
export async function* narEvents(source: ByteSource, options: NarReadOptions = {}): AsyncGenerator<NarEvent, NarReadResult> {
  const limits = resolveLimits(options.limits);
  const input = new NarInput(source, limits, options.onRaw);
  await input.expect(KW.magic, 'NAR magic');

  // lastNames[d] = the previous entry name inside the open directory at depth d (sort check).
  const lastNames: (Uint8Array | null)[] = [];
  let openDirs = 0; // directories entered and not yet closed; the next node's depth
  let name: Uint8Array | null = null;
  for (;;) {
    // One node at depth `openDirs` named `name` (after an entry name, `node` comes first).
    await input.expectSeq(name === null ? OPEN_TYPE : NODE_OPEN_TYPE, 'node');
    const kind = await input.expectOneOf(NODE_TYPES, 'node type');
    let needEntryClose: boolean;
    if (kind === 0) {
      yield* readRegular(input, openDirs, name);
      needEntryClose = false; // readRegular consumed the entry's `)` too
    } else if (kind === 1) {
      await input.expect(KW.target, 'symlink');
      const at = input.offset;
      const target = await input.readToken(limits.maxTokenLength, 'NAR_TOO_LARGE', 'symlink target');
      if (target.length === 0 || target.includes(0)) throw input.fail('BAD_NAR', 'symlink target is empty or contains NUL', at);
      await input.expectSeq(openDirs > 0 ? CLOSE_CLOSE : CLOSE, 'symlink');
      yield { type: 'symlink', depth: openDirs, name, target };
      needEntryClose = false;
    } else {
      if (openDirs >= limits.maxDepth) throw input.fail('NAR_TOO_LARGE', `directories nest deeper than the limit of ${limits.maxDepth}`);
      yield { type: 'directory', depth: openDirs, name };
      lastNames[openDirs] = null;
      openDirs++;
      needEntryClose = false;
    }
    // Read fields of the innermost open directory until it has another entry (or all close).
    let hasNext = false;
    while (openDirs > 0) {
      if (needEntryClose) await input.expectSeq(CLOSE, 'entry');
      if ((await input.expectOneOf(DIR_FIELDS, 'directory')) === 0) {
        name = await readEntryName(input, lastNames, openDirs - 1);
        hasNext = true;
        break;
      }
      openDirs--;
      yield { type: 'directoryEnd', depth: openDirs };
      needEntryClose = openDirs > 0;
    }
    if (!hasNext) break;
  }
  if (options.requireEnd === true && !(await source.atEnd())) throw input.fail('BAD_NAR', 'trailing bytes after the end of the NAR');
  return { narHash: input.narHash(), narSize: input.offset };
}

async function* readRegular(input: NarInput, depth: number, name: Uint8Array | null): AsyncGenerator<NarEvent> {
  let executable = false;
  if ((await input.expectOneOf(FILE_FIELDS, 'regular file')) === 0) {
    const at = input.offset;
    const marker = await input.readToken(0, 'BAD_NAR', "executable marker (must be '')");
    if (marker.length !== 0) throw input.fail('BAD_NAR', 'executable marker is not empty', at);
    executable = true;
    await input.expect(KW.contents, 'regular file');
  }
  const size = await input.readLength(input.limits.maxFileSize, 'NAR_TOO_LARGE', 'file');
  yield { type: 'file', depth, name, executable, size };
  for await (const chunk of input.payloadChunks(size)) yield { type: 'contents', chunk };
  await input.expectSeq(depth > 0 ? CLOSE_CLOSE : CLOSE, 'regular file');
  yield { type: 'fileEnd', depth };
}

/** After `entry`: `(` `name` NAME `node`; NAME validated and checked against its predecessor. */
async function readEntryName(input: NarInput, lastNames: (Uint8Array | null)[], dirDepth: number): Promise<Uint8Array> {
  await input.expectSeq(OPEN_NAME, 'entry');
  const at = input.offset;
  const name = await input.readToken(input.limits.maxTokenLength, 'NAR_TOO_LARGE', 'entry name');
  const problem = unsafeNameProblem(name);
  if (problem !== null) throw new NixFormatError('NAR_UNSAFE_PATH', `entry name ${JSON.stringify(Buffer.from(name).toString())} ${problem}`, { offset: at });
  const prev = lastNames[dirDepth];
  if (prev !== null && prev !== undefined && Buffer.compare(prev, name) >= 0) {
    const how = Buffer.compare(prev, name) === 0 ? 'duplicate' : 'out of order';
    throw new NixFormatError('BAD_NAR', `entry name ${JSON.stringify(Buffer.from(name).toString())} is ${how}`, { offset: at });
  }
  lastNames[dirDepth] = name;
  return name;
}

function unsafeNameProblem(name: Uint8Array): string | null {
  if (name.length === 0) return 'is empty';
  if (name.length === 1 && name[0] === 0x2e) return 'is "."';
  if (name.length === 2 && name[0] === 0x2e && name[1] === 0x2e) return 'is ".."';
  if (name.includes(0x2f)) return 'contains "/"';
  if (name.includes(0)) return 'contains NUL';
  return null;
}
