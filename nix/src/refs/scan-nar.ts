/**
 * Reference scanning over NARs, the way Nix decides a build output's references: every byte of
 * the output's NAR serialisation (names, symlink targets and file contents alike) is scanned.
 */
import type { ByteSource } from '../io/byte-source.js';
import { dumpNarSync } from '../nar/dump.js';
import { copyNar } from '../nar/read.js';
import type { NarReadResult } from '../nar/events.js';
import { ReferenceScanner } from './scanner.js';

/** Scans the NAR of the filesystem tree at `path`. */
export function scanPathForReferences(path: string, candidates: Iterable<string>): Set<string> {
  const scanner = new ReferenceScanner(candidates);
  dumpNarSync(path, (c) => scanner.push(c));
  return scanner.found();
}

/** Scans a NAR read from `source` (validating it); returns the references found and narHash/narSize. */
export async function scanNarForReferences(
  source: ByteSource,
  candidates: Iterable<string>,
): Promise<{ references: Set<string> } & NarReadResult> {
  const scanner = new ReferenceScanner(candidates);
  const r = await copyNar(source, (c) => scanner.push(c));
  return { references: scanner.found(), ...r };
}
