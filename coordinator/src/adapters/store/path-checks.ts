/**
 * Checks on an uploaded PathInfo that need no NAR bytes and no store state: the path and its
 * references are store paths, the sizes are within limits, and a content address (when given)
 * really produces this path. Everything here throws before a byte is written.
 *
 * A content-addressed path also constrains its NAR: `expectedContent` says what to hash while
 * the NAR streams in (the single file's contents for text/flat, the NAR itself for recursive).
 */
import { FarmError } from '@farm/common';
import {
  Hash,
  isHashAlgo,
  makeFixedOutputPath,
  makeTextPath,
  parseStorePath,
  sortedBytewise,
  type HashAlgo,
  type PathInfo,
} from '@farm/nix';
import type { FarmStoreLimits } from '../../ports/farm-store.js';

/** What the NAR of a content-addressed path must hash to. */
export type ExpectedContent =
  | { readonly of: 'file'; readonly hash: Hash } // text: or fixed: (flat): the root is one regular file
  | { readonly of: 'nar'; readonly hash: Hash }; // fixed:r: — the NAR itself, in the ca's algorithm

export interface CheckedPathInfo {
  /** References sorted bytewise without duplicates. */
  readonly references: string[];
  readonly expectedContent: ExpectedContent | undefined;
}

export function checkPathInfo(info: PathInfo, limits: FarmStoreLimits): CheckedPathInfo {
  const path = parseStorePath(info.path);
  if (info.deriver !== undefined) parseStorePath(info.deriver);
  if (info.narHash.algo !== 'sha256') {
    throw new FarmError('INVALID_ARGUMENT', `${info.path}: narHash must be sha256, got ${info.narHash.algo}`);
  }
  if (info.narSize < 0n || info.narSize > BigInt(limits.maxNarSize)) {
    throw new FarmError('INVALID_ARGUMENT', `${info.path}: narSize ${info.narSize} exceeds the limit of ${limits.maxNarSize} bytes`);
  }
  if (info.references.length > limits.maxReferences) {
    throw new FarmError('INVALID_ARGUMENT', `${info.path}: ${info.references.length} references exceed the limit of ${limits.maxReferences}`);
  }
  for (const ref of info.references) parseStorePath(ref);
  const references = sortedBytewise(new Set(info.references));
  if (info.ca === undefined) return { references, expectedContent: undefined };

  const ca = parseCa(info.path, info.ca);
  const others = references.filter((r) => r !== info.path);
  const hasSelf = others.length !== references.length;
  let expectedPath: string;
  try {
    if (ca.method === 'text') {
      if (hasSelf) throw new FarmError('INVALID_ARGUMENT', `${info.path}: a text path cannot refer to itself`);
      expectedPath = makeTextPath(path.name, ca.hash, others);
    } else {
      expectedPath = makeFixedOutputPath(ca.ingestion, ca.hash, path.name, others, hasSelf);
    }
  } catch (e) {
    if (e instanceof FarmError) throw e;
    throw new FarmError('INVALID_ARGUMENT', `${info.path}: content address '${info.ca}' does not fit: ${(e as Error).message}`, {}, { cause: e });
  }
  if (expectedPath !== info.path) {
    throw new FarmError('INVALID_ARGUMENT', `${info.path}: content address '${info.ca}' gives path ${expectedPath}, not ${info.path}`);
  }
  const expectedContent: ExpectedContent = ca.method === 'fixed' && ca.ingestion === 'recursive' ? { of: 'nar', hash: ca.hash } : { of: 'file', hash: ca.hash };
  return { references, expectedContent };
}

type ParsedCa = { method: 'text'; hash: Hash } | { method: 'fixed'; ingestion: 'flat' | 'recursive'; hash: Hash };

/** `text:sha256:<hash>` or `fixed:[r:]<algo>:<hash>`, as Nix's parseContentAddress. */
function parseCa(path: string, ca: string): ParsedCa {
  const bad = (why: string) => new FarmError('INVALID_ARGUMENT', `${path}: bad content address '${ca}': ${why}`);
  const hashOf = (rest: string, only?: HashAlgo): Hash => {
    const algo = rest.slice(0, rest.indexOf(':'));
    if (!isHashAlgo(algo)) throw bad(`unknown hash algorithm '${algo}'`);
    if (only !== undefined && algo !== only) throw bad(`text content addresses use ${only}`);
    try {
      return Hash.parse(rest);
    } catch (e) {
      throw bad((e as Error).message);
    }
  };
  if (ca.startsWith('text:')) return { method: 'text', hash: hashOf(ca.slice(5), 'sha256') };
  if (ca.startsWith('fixed:r:')) return { method: 'fixed', ingestion: 'recursive', hash: hashOf(ca.slice(8)) };
  if (ca.startsWith('fixed:')) return { method: 'fixed', ingestion: 'flat', hash: hashOf(ca.slice(6)) };
  throw bad("expected 'text:' or 'fixed:'");
}
