/**
 * `farm submit --copy-back`: the roots' outputs, and whatever of their runtime closure the local
 * store lacks, fetched from the farm (GetNar) and imported into the local Nix store.
 *
 * GetNar carries only NAR bytes, so references are found the way Nix finds them for a build
 * output: by scanning the NAR for the hash parts of the paths its build could have seen — every
 * output and source in the closure of its derivation (known locally from the submission's
 * derivations); for a path no local derivation produced, every path the submission knows. The
 * walk is breadth-first: each level's newly found references are checked against the local
 * store in one `nix-store --check-validity` call, and only invalid ones are fetched. NARs are
 * spooled to a temporary directory while they are hashed and scanned; then one
 * `nix-store --import` receives them dependency-first.
 */
import { createHash } from 'node:crypto';
import { createReadStream } from 'node:fs';
import { mkdtemp, open, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Writable } from 'node:stream';
import { Hash, ReferenceScanner } from '@farm/nix';
import { dependencyOrder } from '../eval/index.js';
import type { BundleItem } from '../eval/index.js';
import { EXPORT_END, exportHead, exportTrailer } from './export-writer.js';
import { importExportStream, invalidPaths, type LocalStoreOptions } from './local-store.js';

export interface NarApi {
  getNar(path: string, signal?: AbortSignal): AsyncIterable<Uint8Array>;
}

/** Which store paths a path may refer to, and which derivation produced it. */
export interface PathKnowledge {
  candidatesFor(path: string): Iterable<string>;
  deriverOf(path: string): string;
}

export interface FetchedPath {
  readonly path: string;
  readonly references: readonly string[];
  readonly deriver: string;
  readonly narHash: string;
  readonly narSize: number;
}

export type CopyBackEvent = { readonly kind: 'fetched'; readonly fetched: FetchedPath } | { readonly kind: 'imported'; readonly paths: readonly string[] };

export interface CopyBackOptions extends LocalStoreOptions {
  readonly onEvent?: (e: CopyBackEvent) => void;
  /** Where NARs are spooled; default the OS temp dir. */
  readonly tmpDir?: string;
}

export interface CopyBackResult {
  /** Paths imported, dependency-first. */
  readonly imported: readonly FetchedPath[];
  /** Requested paths the local store already had. */
  readonly alreadyValid: readonly string[];
}

export async function copyBack(api: NarApi, paths: readonly string[], knowledge: PathKnowledge, options: CopyBackOptions = {}): Promise<CopyBackResult> {
  const requested = [...new Set(paths)];
  const missingRoots = await invalidPaths(requested, options);
  const alreadyValid = requested.filter((p) => !missingRoots.has(p));
  if (missingRoots.size === 0) return { imported: [], alreadyValid };

  const spool = await mkdtemp(join(options.tmpDir ?? tmpdir(), 'farm-copy-back-'));
  try {
    const fetched = new Map<string, FetchedPath & { file: string }>();
    let level = [...missingRoots];
    while (level.length > 0) {
      const found = new Set<string>();
      for (const path of level) {
        if (fetched.has(path)) continue;
        const file = join(spool, `${fetched.size}.nar`);
        const f = await fetchNar(api, path, file, knowledge);
        fetched.set(path, { ...f, file });
        options.onEvent?.({ kind: 'fetched', fetched: f });
        for (const r of f.references) if (r !== path && !fetched.has(r)) found.add(r);
      }
      level = found.size > 0 ? [...(await invalidPaths([...found], options))] : [];
    }
    const order = dependencyOrder(new Map([...fetched].map(([p, f]) => [p, f.references.filter((r) => fetched.has(r))])));
    const entries = order.map((p) => fetched.get(p)!);
    const reported = await importExportStream((stdin) => writeExport(stdin, entries), options);
    options.onEvent?.({ kind: 'imported', paths: reported });
    return { imported: entries.map(({ file: _file, ...f }) => f), alreadyValid };
  } finally {
    await rm(spool, { recursive: true, force: true });
  }
}

async function fetchNar(api: NarApi, path: string, file: string, knowledge: PathKnowledge): Promise<FetchedPath> {
  const scanner = new ReferenceScanner(new Set([...knowledge.candidatesFor(path), path]));
  const sha = createHash('sha256');
  let size = 0;
  const fh = await open(file, 'w');
  try {
    for await (const chunk of api.getNar(path)) {
      scanner.push(chunk);
      sha.update(chunk);
      size += chunk.length;
      await fh.write(chunk);
    }
  } finally {
    await fh.close();
  }
  return {
    path,
    references: [...scanner.found()].sort(),
    deriver: knowledge.deriverOf(path),
    narHash: Hash.fromDigest('sha256', sha.digest()).toPrefixed('nix32'),
    narSize: size,
  };
}

async function writeExport(out: Writable, entries: readonly (FetchedPath & { file: string })[]): Promise<void> {
  const write = async (bytes: Uint8Array): Promise<void> => {
    if (!out.write(bytes)) await new Promise<void>((resolve, reject) => {
      const onDrain = (): void => {
        out.off('close', onClose);
        resolve();
      };
      const onClose = (): void => {
        out.off('drain', onDrain);
        reject(new Error('nix-store --import closed its input early'));
      };
      out.once('drain', onDrain);
      out.once('close', onClose);
    });
  };
  for (const e of entries) {
    await write(exportHead());
    for await (const chunk of createReadStream(e.file)) await write(chunk as Buffer);
    await write(exportTrailer(e.path, e.references, e.deriver));
  }
  await write(EXPORT_END);
}

/**
 * What the submission's derivations say about their outputs: each output's deriver, and as
 * reference candidates the outputs and sources of its derivation's whole closure (a superset of
 * what its build could see, computed per derivation on demand).
 */
export function bundleKnowledge(items: readonly BundleItem[]): PathKnowledge {
  const byDrv = new Map<string, BundleItem>();
  const deriver = new Map<string, string>();
  const everything = new Set<string>();
  for (const item of items) {
    if (item.derivation !== undefined) {
      byDrv.set(item.path, item);
      for (const o of item.derivation.outputs.values()) {
        if (o.path !== '') {
          deriver.set(o.path, item.path);
          everything.add(o.path);
        }
      }
    } else {
      everything.add(item.path);
    }
  }
  const memo = new Map<string, Set<string>>();
  const closureOf = (drvPath: string): Set<string> => {
    const cached = memo.get(drvPath);
    if (cached !== undefined) return cached;
    const result = new Set<string>();
    const seen = new Set<string>();
    const stack = [drvPath];
    while (stack.length > 0) {
      const d = stack.pop()!;
      if (seen.has(d)) continue;
      seen.add(d);
      const drv = byDrv.get(d)?.derivation;
      if (drv === undefined) continue;
      for (const o of drv.outputs.values()) if (o.path !== '') result.add(o.path);
      for (const s of drv.inputSrcs) result.add(s);
      stack.push(...drv.inputDrvs.keys());
    }
    memo.set(drvPath, result);
    return result;
  };
  return {
    candidatesFor: (path) => {
      const d = deriver.get(path);
      return d !== undefined ? closureOf(d) : everything;
    },
    deriverOf: (path) => deriver.get(path) ?? '',
  };
}
