/**
 * What Nix's server held at capture time, as far as the transcripts and the vectors tell: for
 * each store path its path info and NAR bytes, gathered from the recorded server answers
 * (QueryPathInfo(s), DumpStorePath/NarFromPath, ExportPaths), the clients' uploads, the
 * store-path vectors (builtins.toFile fixtures with their contents) and — for the `.drv` files the
 * scripted sessions' server got from `nix-instantiate capture.nix` — the real nix-instantiate run
 * again into a scratch chroot store (same paths: derivations are deterministic). A NAR is found
 * by path, or by its hash when another path has the same contents (hello.txt is the fod's NAR).
 *
 * `preexistingPaths` says which paths a session's server must already hold: those the recorded
 * server answered about before the client uploaded them or had them built in that session.
 */
import { execFileSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import {
  Hash,
  isBuildSuccess,
  makeTextPath,
  parseDerivation,
  parseDerivedPath,
  parseStorePath,
  regularFileNar,
  sha256,
  workerDerivedPathSyntax,
  type Derivation,
  type WirePathInfo,
} from '@farm/nix';
import { readVectorJson, vectorPath } from '@farm/testkit';
import type { ClientSession, ServeAnswers, WorkerAnswers } from './nix-transcripts.js';

export interface CatalogInfo {
  readonly path: string;
  readonly deriver: string;
  readonly narHash: Hash;
  readonly narSize: number;
  readonly references: readonly string[];
  /** undefined = not known from this source (an export stream carries no content address). */
  readonly ca: string | undefined;
}

export interface CatalogEntry extends CatalogInfo {
  readonly nar: Uint8Array;
}

interface StorePathVector {
  readonly path: string;
  readonly contents?: string;
  readonly pathInfo: { readonly narHash: string; readonly narSize: number; readonly references: readonly string[]; readonly ca?: string };
}

const CAPTURE_DRV = /^\/nix\/store\/[0-9a-z]{32}-cap-[a-z]+-([a-z]+[0-9]+)\.drv$/;

export class PathCatalog {
  private readonly infos = new Map<string, CatalogInfo>();
  private readonly nars = new Map<string, Uint8Array>();
  private readonly narsByHash = new Map<string, Uint8Array>();
  private readonly derivations = new Map<string, Derivation>();

  addInfo(info: CatalogInfo): void {
    const known = this.infos.get(info.path);
    if (known === undefined) this.infos.set(info.path, info);
    else if (known.ca === undefined && info.ca !== undefined) this.infos.set(info.path, { ...known, ca: info.ca });
  }

  addNar(path: string, nar: Uint8Array): void {
    if (!this.nars.has(path)) this.nars.set(path, nar);
    this.narsByHash.set(sha256(nar).base16, nar);
  }

  has(path: string): boolean {
    return this.infos.has(path);
  }

  entry(path: string): CatalogEntry | undefined {
    const info = this.infos.get(path);
    if (info === undefined) return undefined;
    const nar = this.nars.get(path) ?? this.narsByHash.get(info.narHash.base16);
    return nar === undefined ? undefined : { ...info, nar };
  }

  derivation(drvPath: string): Derivation | undefined {
    return this.derivations.get(drvPath);
  }

  /** Output paths of a derivation the catalog holds (empty when unknown). */
  outputsOf(drvPath: string, wanted: 'all' | readonly string[]): string[] {
    const drv = this.derivations.get(drvPath);
    if (drv === undefined) return [];
    return [...drv.outputs].filter(([name]) => wanted === 'all' || wanted.includes(name)).map(([, o]) => o.path);
  }

  /** Everything a recorded session shows about paths: server answers and client uploads. */
  addSession(session: ClientSession, answers: ServeAnswers | WorkerAnswers): void {
    if (session.protocol === 'serve') {
      const replies = (answers as ServeAnswers).replies;
      for (const [i, req] of session.requests.entries()) {
        const reply = replies[i];
        if (req.cmd === 'AddToStoreNar') this.addUpload(req.info, req.nar);
        if (req.cmd === 'ImportPaths') for (const p of req.paths) this.addExported(p.path, p.deriver, p.references, p.nar);
        if (reply === undefined) continue;
        if (reply.cmd === 'QueryPathInfos') {
          for (const info of reply.infos) this.addInfo({ path: info.path, deriver: info.deriver, narHash: Hash.parse(info.narHash, 'sha256'), narSize: info.narSize, references: info.references, ca: info.ca });
        } else if (reply.cmd === 'DumpStorePath' && req.cmd === 'DumpStorePath') this.addNar(req.path, reply.nar);
        else if (reply.cmd === 'ExportPaths') for (const p of reply.paths) this.addExported(p.path, p.deriver, p.references, p.nar);
      }
      return;
    }
    const responses = (answers as WorkerAnswers).responses;
    for (const [i, req] of session.requests.entries()) {
      if (req.op === 'AddToStoreNar') this.addUpload(req.info, req.nar);
      if (req.op === 'AddMultipleToStore') for (const it of req.items) this.addUpload(it.info, it.nar);
      const reply = responses[i]?.reply;
      if (reply === undefined) continue;
      if (reply.op === 'QueryPathInfo' && req.op === 'QueryPathInfo' && reply.info !== undefined) {
        const f = reply.info;
        this.addInfo({ path: req.path, deriver: f.deriver, narHash: Hash.parse(f.narHash, 'sha256'), narSize: f.narSize, references: f.references, ca: f.ca });
      } else if (reply.op === 'NarFromPath' && req.op === 'NarFromPath') this.addNar(req.path, reply.nar);
    }
  }

  private addUpload(info: WirePathInfo, nar: Uint8Array): void {
    this.addInfo({ path: info.path, deriver: info.deriver, narHash: Hash.parse(info.narHash, 'sha256'), narSize: info.narSize, references: info.references, ca: info.ca });
    this.addNar(info.path, nar);
  }

  private addExported(path: string, deriver: string, references: readonly string[], nar: Uint8Array): void {
    this.addInfo({ path, deriver, narHash: sha256(nar), narSize: nar.length, references, ca: undefined });
    this.addNar(path, nar);
  }

  /** The fixtures of vectors/nix/storepaths.nix (a.txt, b.txt, c.txt, hello.txt, …) with their infos. */
  addStorePathVectors(): void {
    const v = readVectorJson<{ textPaths: StorePathVector[]; sourcePaths: StorePathVector[]; fixedPaths: StorePathVector[] }>('store-paths.json');
    for (const p of [...v.textPaths, ...v.sourcePaths, ...v.fixedPaths]) {
      const i = p.pathInfo;
      this.addInfo({ path: p.path, deriver: '', narHash: Hash.parse(i.narHash, 'sha256'), narSize: i.narSize, references: i.references, ca: i.ca ?? '' });
      if (p.contents !== undefined) this.addNar(p.path, regularFileNar(new TextEncoder().encode(p.contents)));
    }
  }

  /**
   * For capture.nix `.drv` paths (`…-cap-<x>-<nonce>.drv`) the catalog lacks: runs the real
   * nix-instantiate of capture.nix with that nonce into the chroot store `chroot`, as the
   * scripted sessions did on their server (attributes a, b, r, fail), and adds every `.drv` and
   * source in their closure.
   */
  instantiateCaptureDerivations(paths: Iterable<string>, chroot: string, env: NodeJS.ProcessEnv = process.env): void {
    const nonces = new Set<string>();
    for (const p of paths) {
      const m = CAPTURE_DRV.exec(p);
      if (m !== null && !this.has(p)) nonces.add(m[1]!);
    }
    for (const nonce of nonces) {
      const out = execFileSync('nix-instantiate', ['--store', chroot, vectorPath('nix/capture.nix'), '--argstr', 'nonce', nonce, ...['a', 'b', 'r', 'fail'].flatMap((a) => ['-A', a])], {
        encoding: 'utf8',
        stdio: ['ignore', 'pipe', 'pipe'],
        env,
      });
      const pending = out.split('\n').filter((l) => l.startsWith('/nix/store/'));
      const seen = new Set<string>();
      while (pending.length > 0) {
        const path = pending.pop()!;
        if (seen.has(path)) continue;
        seen.add(path);
        const contents = new Uint8Array(readFileSync(join(chroot, path)));
        let references: string[] = [];
        if (path.endsWith('.drv')) {
          const drv = parseDerivation(contents);
          this.derivations.set(path, drv);
          references = [...drv.inputSrcs, ...drv.inputDrvs.keys()];
          pending.push(...references);
        }
        this.addTextFile(path, contents, references);
      }
    }
  }

  /** A text path (a `.drv`, a builtins.toFile source) from its contents; its path is checked. */
  private addTextFile(path: string, contents: Uint8Array, references: readonly string[]): void {
    const hash = sha256(contents);
    const computed = makeTextPath(parseStorePath(path).name, hash, references);
    if (computed !== path) throw new Error(`${path}: its contents and references make the text path ${computed}`);
    const nar = regularFileNar(contents);
    this.addInfo({ path, deriver: '', narHash: sha256(nar), narSize: nar.length, references: [...references].sort(), ca: `text:sha256:${hash.nix32}` });
    this.addNar(path, nar);
  }

  /** `paths` and everything they refer to, references first; throws naming a path it cannot provide. */
  closureInOrder(paths: Iterable<string>): CatalogEntry[] {
    const out: CatalogEntry[] = [];
    const done = new Set<string>();
    const visit = (path: string, from: string) => {
      if (done.has(path)) return;
      done.add(path);
      const e = this.entry(path);
      if (e === undefined) throw new Error(`no recorded ${this.has(path) ? 'NAR' : 'path info'} for ${path} (needed by ${from})`);
      for (const ref of e.references) if (ref !== path) visit(ref, path);
      out.push(e);
    };
    for (const p of paths) visit(p, 'the transcript');
    return out;
  }
}

/**
 * The paths a recorded session's server already held: those it answered about (valid in
 * QueryValidPaths/IsValidPath, described by QueryPathInfo(s)/QueryClosure, dumped, exported,
 * `.drv`s it built or answered QueryMissing/QueryDerivationOutputMap for, inputs of a
 * BuildDerivation) and that the client had not uploaded, nor had built, earlier in that session.
 */
export function preexistingPaths(session: ClientSession, answers: ServeAnswers | WorkerAnswers, catalog: PathCatalog): string[] {
  const produced = new Set<string>();
  const pre = new Set<string>();
  const need = (p: string) => {
    if (!produced.has(p)) pre.add(p);
  };
  const built = (drvPath: string, outputs: 'all' | readonly string[]) => {
    for (const o of catalog.outputsOf(drvPath, outputs)) produced.add(o);
  };
  if (session.protocol === 'serve') {
    const replies = (answers as ServeAnswers).replies;
    for (const [i, req] of session.requests.entries()) {
      const reply = replies[i];
      if (reply === undefined) break;
      switch (req.cmd) {
        case 'QueryValidPaths':
        case 'QueryClosure':
          if (reply.cmd === req.cmd) reply.paths.forEach(need);
          break;
        case 'QueryPathInfos':
          if (reply.cmd === req.cmd) reply.infos.forEach((info) => need(info.path));
          break;
        case 'DumpStorePath':
          need(req.path);
          break;
        case 'ExportPaths':
          req.paths.forEach(need);
          break;
        case 'ImportPaths':
          req.paths.forEach((p) => produced.add(p.path));
          break;
        case 'AddToStoreNar':
          produced.add(req.info.path);
          break;
        case 'BuildPaths':
          for (const s of req.paths) {
            const d = parseDerivedPath(s, 'old');
            if (d.type === 'opaque') need(d.path);
            else {
              need(d.drvPath);
              if (reply.cmd === 'BuildPaths' && reply.status === 0) built(d.drvPath, d.outputs);
            }
          }
          break;
        case 'BuildDerivation':
          req.derivation.inputSrcs.forEach(need);
          if (reply.cmd === 'BuildDerivation' && isBuildSuccess(reply.result.status)) for (const o of req.derivation.outputs.values()) produced.add(o.path);
          break;
      }
    }
    return [...pre];
  }
  const syntax = workerDerivedPathSyntax(session.version);
  const responses = (answers as WorkerAnswers).responses;
  for (const [i, req] of session.requests.entries()) {
    const response = responses[i];
    if (response === undefined) break;
    const reply = response.reply;
    switch (req.op) {
      case 'BuildPaths':
      case 'BuildPathsWithResults':
        for (const s of req.derivedPaths) {
          const d = parseDerivedPath(s, syntax);
          const result = reply?.op === 'BuildPathsWithResults' ? reply.results.find((r) => r.path === s)?.result : undefined;
          const ok = reply !== undefined && (result === undefined || isBuildSuccess(result.status));
          if (d.type === 'opaque') {
            if (ok) need(d.path);
          } else {
            need(d.drvPath);
            if (ok) built(d.drvPath, d.outputs);
          }
        }
        continue;
      case 'AddToStoreNar':
        produced.add(req.info.path);
        continue;
      case 'AddMultipleToStore':
        req.items.forEach((it) => produced.add(it.info.path));
        continue;
    }
    if (reply === undefined) continue;
    switch (reply.op) {
      case 'IsValidPath':
        if (reply.valid && req.op === 'IsValidPath') need(req.path);
        break;
      case 'QueryValidPaths':
        reply.paths.forEach(need);
        break;
      case 'QueryPathInfo':
        if (reply.info !== undefined && req.op === 'QueryPathInfo') need(req.path);
        break;
      case 'QueryPathFromHashPart':
        if (reply.path !== '') need(reply.path);
        break;
      case 'NarFromPath':
        if (req.op === 'NarFromPath') need(req.path);
        break;
      case 'QueryDerivationOutputMap':
        if (req.op === 'QueryDerivationOutputMap') need(req.path);
        break;
      case 'QueryMissing':
        if (req.op === 'QueryMissing') {
          for (const s of req.derivedPaths) {
            const d = parseDerivedPath(s, syntax);
            need(d.type === 'opaque' ? d.path : d.drvPath);
          }
        }
        reply.willBuild.forEach(need);
        break;
      case 'AddToStore':
        produced.add(reply.info.path);
        break;
      case 'AddTextToStore':
        produced.add(reply.path);
        break;
      case 'BuildDerivation':
        if (req.op === 'BuildDerivation') {
          req.derivation.inputSrcs.forEach(need);
          if (isBuildSuccess(reply.result.status)) for (const o of req.derivation.outputs.values()) produced.add(o.path);
        }
        break;
    }
  }
  return [...pre];
}

/** The wire form of a catalog entry for an upload (as a client sends it: ultimate off, no signatures). */
export function uploadInfo(e: CatalogEntry): WirePathInfo {
  return { path: e.path, deriver: e.deriver, narHash: e.narHash.base16, references: [...e.references], registrationTime: 0, narSize: e.narSize, ultimate: false, sigs: [], ca: e.ca ?? '' };
}
