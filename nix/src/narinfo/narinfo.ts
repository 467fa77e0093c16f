/**
 * `.narinfo` files (spec §9; Nix 2.8 src/libstore/nar-info.cc): `Key: value` lines, each ending
 * in '\n', written in a fixed order:
 *   StorePath URL Compression FileHash FileSize NarHash NarSize References [Deriver] [System] Sig* [CA]
 *
 * Parsing follows Nix with these deliberate differences, all of which only reject input Nix
 * would misread: every line must be `Key: value` (Nix's reader takes the value from two bytes
 * after the first ':' whatever they are); a known key other than Sig may appear only once (Nix
 * lets the last one win for most keys); Sig values must be well-formed signatures (Nix only
 * notices a bad one when verifying). Unknown keys are ignored, as Nix does. A missing or empty
 * Compression means bzip2; `Deriver: unknown-deriver` means none.
 *
 * Formatting writes exactly Nix's output for the same record: references as sorted base names
 * (the line is `References: ` with a trailing space when empty), signatures sorted and
 * deduplicated (Nix keeps them in a std::set). FileHash/FileSize are written when present (Nix
 * asserts they are). Single pass over the text: O(n) plus sorting the references.
 */
import { NixFormatError } from '../errors.js';
import { Hash } from '../hash/hash.js';
import type { PathInfo } from '../path-info.js';
import { renderContentAddress, type ContentAddress } from '../store-path/make-paths.js';
import { DEFAULT_STORE_DIR, parseStorePath, parseStorePathBaseName, sortedBytewise } from '../store-path/store-path.js';
import { parseSignature } from '../signing/signature.js';

export interface NarInfo extends PathInfo {
  /** Location of the (compressed) NAR, relative to the cache root, e.g. `nar/<nix32>.nar.xz`. */
  readonly url: string;
  /** `none`, `xz`, `bzip2`, `zstd`, `br`, `lzip`, `lz4`… (bzip2 when the file has no Compression line). */
  readonly compression: string;
  /** Hash and size of the file at `url` (the compressed NAR). */
  readonly fileHash?: Hash;
  readonly fileSize?: bigint;
  readonly system?: string;
}

export interface NarInfoOptions {
  /** The store directory paths must be in (default `/nix/store`). */
  readonly storeDir?: string;
}

const U64_MAX = (1n << 64n) - 1n;
const SINGLE_KEYS = new Set(['StorePath', 'URL', 'Compression', 'FileHash', 'FileSize', 'NarHash', 'NarSize', 'References', 'Deriver', 'System', 'CA']);

/** The file name of a path's narinfo in a binary cache: `<hash part>.narinfo`. */
export function narInfoFileName(storePath: string, storeDir: string = DEFAULT_STORE_DIR): string {
  return `${parseStorePath(storePath, storeDir).hashPart}.narinfo`;
}

export function parseNarInfo(text: string, options: NarInfoOptions = {}): NarInfo {
  const storeDir = options.storeDir ?? DEFAULT_STORE_DIR;
  const seen = new Set<string>();
  const fields: {
    path?: string; url?: string; compression?: string; fileHash?: Hash; fileSize?: bigint; narHash?: Hash; narSize?: bigint;
    references?: string[]; deriver?: string; system?: string; ca?: string;
  } = {};
  const sigs: string[] = [];

  let pos = 0;
  let lineNo = 0;
  while (pos < text.length) {
    lineNo++;
    const eol = text.indexOf('\n', pos);
    const line = text.slice(pos, eol < 0 ? text.length : eol);
    const offset = Buffer.byteLength(text.slice(0, pos), 'utf8');
    const fail = (what: string, field: string, cause?: unknown): never => {
      throw new NixFormatError('BAD_NARINFO', `narinfo line ${lineNo} (${field}): ${what}`, {
        offset,
        field,
        ...(cause !== undefined ? { cause } : {}),
      });
    };
    if (eol < 0) fail('the last line does not end with a newline', `line ${lineNo}`);
    const colon = line.indexOf(': ');
    if (colon <= 0) fail(`expected 'Key: value', got ${JSON.stringify(line)}`, `line ${lineNo}`);
    const key = line.slice(0, colon);
    const value = line.slice(colon + 2);
    if (SINGLE_KEYS.has(key)) {
      if (seen.has(key)) fail(`${key} appears more than once`, key);
      seen.add(key);
    }
    try {
      switch (key) {
        case 'StorePath':
          fields.path = parseStorePath(value, storeDir).path;
          break;
        case 'URL':
          if (value === '') fail('URL is empty', key);
          fields.url = value;
          break;
        case 'Compression':
          fields.compression = value;
          break;
        case 'FileHash':
          fields.fileHash = Hash.parsePrefixed(value);
          break;
        case 'NarHash':
          fields.narHash = Hash.parsePrefixed(value);
          break;
        case 'FileSize':
          fields.fileSize = parseU64(value, key, fail);
          break;
        case 'NarSize':
          fields.narSize = parseU64(value, key, fail);
          if (fields.narSize === 0n) fail('NarSize must not be zero', key);
          break;
        case 'References':
          fields.references = sortedBytewise(new Set(value.split(' ').filter((r) => r !== '').map((r) => parseStorePathBaseName(r, storeDir).path)));
          break;
        case 'Deriver':
          if (value !== 'unknown-deriver') fields.deriver = parseStorePathBaseName(value, storeDir).path;
          break;
        case 'System':
          fields.system = value;
          break;
        case 'Sig':
          parseSignature(value);
          sigs.push(value);
          break;
        case 'CA':
          if (value !== '') fields.ca = renderContentAddress(parseContentAddress(value));
          break;
        default:
          break; // unknown keys are ignored, as Nix does
      }
    } catch (e) {
      if (e instanceof NixFormatError && e.code === 'BAD_NARINFO') throw e;
      fail(e instanceof Error ? e.message : String(e), key, e);
    }
    pos = eol + 1;
  }

  const missing = (what: string): never => {
    throw new NixFormatError('BAD_NARINFO', `narinfo has no ${what} line`, { field: what });
  };
  const path = fields.path ?? missing('StorePath');
  const url = fields.url ?? missing('URL');
  const narHash = fields.narHash ?? missing('NarHash');
  const narSize = fields.narSize ?? missing('NarSize');
  return {
    path,
    url,
    compression: fields.compression === undefined || fields.compression === '' ? 'bzip2' : fields.compression,
    ...(fields.fileHash !== undefined ? { fileHash: fields.fileHash } : {}),
    ...(fields.fileSize !== undefined ? { fileSize: fields.fileSize } : {}),
    narHash,
    narSize,
    references: fields.references ?? [],
    ...(fields.deriver !== undefined ? { deriver: fields.deriver } : {}),
    ...(fields.system !== undefined && fields.system !== '' ? { system: fields.system } : {}),
    sigs,
    ...(fields.ca !== undefined ? { ca: fields.ca } : {}),
    registrationTime: 0n,
    ultimate: false,
  };
}

export function formatNarInfo(info: NarInfo, options: NarInfoOptions = {}): string {
  const storeDir = options.storeDir ?? DEFAULT_STORE_DIR;
  const line = (key: string, value: string): string => {
    if (/[\n\r]/.test(value)) throw new NixFormatError('BAD_NARINFO', `narinfo ${key} value contains a line break`, { field: key });
    return `${key}: ${value}\n`;
  };
  const sha256Field = (key: string, h: Hash): string => {
    if (h.algo !== 'sha256') throw new NixFormatError('BAD_NARINFO', `narinfo ${key} must be a sha256 hash, got ${h.algo}`, { field: key });
    return line(key, h.toPrefixed('nix32'));
  };
  const u64Field = (key: string, n: bigint): string => {
    if (n < 0n || n > U64_MAX) throw new NixFormatError('BAD_NARINFO', `narinfo ${key} ${n} is not a u64`, { field: key });
    return line(key, n.toString());
  };
  if (info.url === '') throw new NixFormatError('BAD_NARINFO', 'narinfo URL is empty', { field: 'URL' });
  if (info.narSize === 0n) throw new NixFormatError('BAD_NARINFO', 'narinfo NarSize must not be zero', { field: 'NarSize' });
  const baseName = (p: string, field: string): string => {
    try {
      return parseStorePath(p, storeDir).baseName;
    } catch (e) {
      throw new NixFormatError('BAD_NARINFO', `narinfo ${field}: ${e instanceof Error ? e.message : String(e)}`, { field, cause: e });
    }
  };

  let out = line('StorePath', `${storeDir}/${baseName(info.path, 'StorePath')}`);
  out += line('URL', info.url);
  out += line('Compression', info.compression === '' ? 'bzip2' : info.compression);
  if (info.fileHash !== undefined) out += sha256Field('FileHash', info.fileHash);
  if (info.fileSize !== undefined) out += u64Field('FileSize', info.fileSize);
  out += sha256Field('NarHash', info.narHash);
  out += u64Field('NarSize', info.narSize);
  out += `References: ${sortedBytewise(new Set(info.references.map((r) => baseName(r, 'References')))).join(' ')}\n`;
  if (info.deriver !== undefined) out += line('Deriver', baseName(info.deriver, 'Deriver'));
  if (info.system !== undefined && info.system !== '') out += line('System', info.system);
  for (const sig of sortedBytewise(new Set(info.sigs))) out += line('Sig', sig);
  if (info.ca !== undefined) out += line('CA', info.ca);
  return out;
}

function parseU64(value: string, key: string, fail: (what: string, field: string) => never): bigint {
  if (!/^[0-9]{1,20}$/.test(value)) return fail(`${key} '${value}' is not an unsigned integer`, key);
  const n = BigInt(value);
  if (n > U64_MAX) return fail(`${key} ${value} does not fit in 64 bits`, key);
  return n;
}

/** `text:sha256:<hash>` or `fixed:[r:]<algo>:<hash>` (Nix's parseContentAddress). */
function parseContentAddress(s: string): ContentAddress {
  if (s.startsWith('text:')) {
    const hash = Hash.parsePrefixed(s.slice('text:'.length));
    if (hash.algo !== 'sha256') throw new NixFormatError('BAD_HASH', `text content address must use sha256, got ${hash.algo}`);
    return { method: 'text', hash };
  }
  if (s.startsWith('fixed:')) {
    const rest = s.slice('fixed:'.length);
    const recursive = rest.startsWith('r:');
    return { method: 'fixed', ingestion: recursive ? 'recursive' : 'flat', hash: Hash.parsePrefixed(recursive ? rest.slice(2) : rest) };
  }
  throw new NixFormatError('BAD_HASH', `content address '${s}' does not start with 'text:' or 'fixed:'`);
}
