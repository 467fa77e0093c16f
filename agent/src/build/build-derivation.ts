/**
 * buildDerivation: one BasicDerivation, built in a Nix-shaped bubblewrap sandbox (see
 * ../sandbox/bwrap.ts for the layout), its outputs canonicalised, NAR-hashed, reference-scanned
 * and moved into the agent's store root.
 *
 * Invariants:
 * - The per-build scratch directory (scratch store, build dir, /etc files, args file) is created
 *   inside request.workDir and removed on every path out, including kills and exceptions.
 * - Nothing enters storeRoot unless the builder exited 0 and every output passed its checks.
 * - A request the builder could never satisfy (unsupported derivation kind, inputs missing from
 *   the store root) throws a FarmError before anything runs; everything that happens once the
 *   sandbox starts is reported in the result, whose status tells build failures (the
 *   derivation's fault) from infrastructure failures (retryable).
 * Traced (children of the active span, the attempt's `build`): `sandbox run` and `hash outputs`.
 */
import { randomBytes } from 'node:crypto';
import { accessSync, constants, existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, renameSync, rmSync, writeFileSync } from 'node:fs';
import { basename, delimiter, join } from 'node:path';
import { ATTR, FarmError, recording, systemClock, withSpan } from '@farm/common';
import { derivationType, NixFormatError, type Derivation } from '@farm/nix';
import { makeBuildEnv, SANDBOX_STORE_DIR } from '../sandbox/build-env.js';
import { bwrapArguments } from '../sandbox/bwrap.js';
import { etcGroup, etcHosts, etcPasswd } from '../sandbox/etc-files.js';
import { runSandboxed, type SandboxExit } from '../sandbox/run-sandboxed.js';
import { preferSymlinks, resolveSandboxPaths, type SandboxBind } from '../sandbox/sandbox-paths.js';
import { emulatedCommand } from './emulated-builder.js';
import { LogTail } from './log-tail.js';
import { exitMessage, killMessage, sandboxErrorMessage } from './messages.js';
import { collectOutputs, moveOutputsIntoStore } from './outputs.js';
import { failureClassOf, type BuildHooks, type BuildRequest, type BuildResult, type BuildStatus, type BuiltOutput } from './types.js';

const DEFAULT_LOG_TAIL_LINES = 25;

export async function buildDerivation(request: BuildRequest, hooks: BuildHooks): Promise<BuildResult> {
  const clock = hooks.clock ?? systemClock;
  const startTime = clock.now();
  const fixedOutput = checkRequest(request);
  const bwrap = request.bwrapPath ?? bwrapOnPath();
  const sandboxPaths = sandboxBinds(request.sandboxPaths);
  const tail = new LogTail(request.logTailLines ?? DEFAULT_LOG_TAIL_LINES);

  mkdirSync(request.workDir, { recursive: true });
  const scratch = mkdtempSync(join(request.workDir, 'build-'));
  try {
    const dirs = { store: join(scratch, 'store'), build: join(scratch, 'build') };
    for (const d of Object.values(dirs)) mkdirSync(d, { mode: 0o700 });
    const etcDir = sharedEtcDir(request.workDir);

    const { env, files } = makeBuildEnv({
      drvEnv: request.drv.env,
      cores: request.cores,
      fixedOutput,
      impureEnv: (name) => (request.impureEnv ?? process.env)[name],
    });
    for (const [name, contents] of files) writeFileSync(join(dirs.build, name), contents);

    const inputs = request.inputClosure.map((p) => ({ source: join(request.storeRoot, basename(p)), target: p }));
    const run =
      request.emulator === undefined
        ? { builder: request.drv.builder, args: request.drv.args, binds: [] }
        : emulatedCommand(request.emulator, request.drv.builder, request.drv.args, (p) => hostPathIn([...inputs, ...sandboxPaths], p));
    const { options, command } = bwrapArguments({
      scratchStore: dirs.store,
      buildDir: dirs.build,
      etcDir,
      inputs,
      sandboxPaths: [...sandboxPaths, ...run.binds],
      network: fixedOutput,
      env,
      builder: run.builder,
      args: run.args,
    });
    const exit = await withSpan('sandbox run', {}, async (span) => {
      const exit = await runSandboxed({
        bwrap,
        options,
        command,
        onLog: (chunk) => {
          tail.push(chunk);
          hooks.onLog(chunk);
        },
        timeoutMs: request.timeoutMs,
        maxSilentMs: request.maxSilentMs,
        maxLogBytes: request.maxLogBytes,
        signal: hooks.signal,
      });
      if (recording(span)) span.setAttributes({ 'farm.sandbox.exit': exit.kind, ...(exit.kind === 'exited' ? { 'process.exit.code': exit.exitCode } : {}), ...(request.emulator !== undefined ? { 'farm.emulated': true } : {}) });
      return exit;
    });
    const done = (status: BuildStatus, message: string, outputs: readonly BuiltOutput[] = [], exitCode?: number): BuildResult => ({
      status,
      failureClass: failureClassOf(status),
      ...(exitCode === undefined ? {} : { exitCode }),
      message,
      logTail: tail.get(),
      outputs,
      startTime,
      stopTime: clock.now(),
    });
    const failed = failureOf(request, exit);
    if (failed !== undefined) return done(failed.status, failed.message, [], failed.exitCode);

    return await withSpan('hash outputs', {}, (span) => {
      let collected;
      try {
        collected = collectOutputs(request.drvPath, request.drv.outputs, dirs.store, request.inputClosure);
      } catch (e) {
        // A FIFO or socket in an output, an unreadable file…: the build's fault, as in Nix.
        if (!(e instanceof NixFormatError)) throw e;
        return done('failed', `builder for '${request.drvPath}' produced an output that cannot be stored: ${e.message}`, [], 0);
      }
      if (!collected.ok) return done(collected.status, collected.message, [], 0);
      moveOutputsIntoStore(collected.outputs, dirs.store, request.storeRoot, randomBytes(6).toString('hex'));
      if (recording(span)) span.setAttributes({ [ATTR.bytes]: collected.outputs.reduce((n, o) => n + o.narSize, 0), [ATTR.paths]: collected.outputs.length });
      return done('built', '', collected.outputs, 0);
    });
  } finally {
    rmSync(scratch, { recursive: true, force: true });
  }
}

function failureOf(request: BuildRequest, exit: SandboxExit): { status: BuildStatus; message: string; exitCode?: number } | undefined {
  switch (exit.kind) {
    case 'exited':
      return exit.exitCode === 0 ? undefined : { status: 'failed', message: exitMessage(request.drvPath, exit.exitCode), exitCode: exit.exitCode };
    case 'setup-failed':
      return { status: 'sandbox-error', message: sandboxErrorMessage(request.drvPath, exit.exitCode, exit.signal, exit.error) };
    case 'killed': {
      const status: BuildStatus = { timeout: 'timed-out', 'max-silent': 'silent-too-long', 'log-limit': 'log-limit-exceeded', cancelled: 'cancelled' }[exit.reason] as BuildStatus;
      return { status, message: killMessage(request.drvPath, exit.reason, request) };
    }
  }
}

/** Validates the request; returns whether the derivation is fixed-output. */
function checkRequest(r: BuildRequest): boolean {
  const asDrv: Derivation = { ...r.drv, inputDrvs: new Map() };
  const type = derivationType(asDrv);
  if (type !== 'input-addressed' && type !== 'fixed-output') {
    throw new FarmError('INVALID_ARGUMENT', `cannot build '${r.drvPath}': ${type} derivations are not supported yet (their output paths are not known before building)`);
  }
  if (r.drv.env.has('__json')) {
    throw new FarmError('INVALID_ARGUMENT', `cannot build '${r.drvPath}': structured attributes (__json) are not supported yet`);
  }
  if (!Number.isInteger(r.cores) || r.cores < 0) throw new FarmError('INVALID_ARGUMENT', `cores must be a non-negative integer, got ${r.cores}`);
  for (const [name, ms] of [['timeoutMs', r.timeoutMs], ['maxSilentMs', r.maxSilentMs], ['maxLogBytes', r.maxLogBytes]] as const) {
    if (ms !== undefined && !(Number.isFinite(ms) && ms > 0)) throw new FarmError('INVALID_ARGUMENT', `${name} must be a positive number, got ${ms}`);
  }
  const closure = new Set(r.inputClosure);
  for (const p of r.drv.inputSrcs) {
    if (!closure.has(p)) throw new FarmError('INVALID_ARGUMENT', `input '${p}' of '${r.drvPath}' is not in the input closure`);
  }
  for (const p of r.inputClosure) {
    if (!p.startsWith(`${SANDBOX_STORE_DIR}/`) || p.slice(SANDBOX_STORE_DIR.length + 1).includes('/')) {
      throw new FarmError('INVALID_ARGUMENT', `input closure entry '${p}' is not a store path under ${SANDBOX_STORE_DIR}`);
    }
    if (!existsSync(join(r.storeRoot, basename(p)))) {
      throw new FarmError('FAILED_PRECONDITION', `input '${p}' of '${r.drvPath}' is not in the store root ${r.storeRoot}`);
    }
  }
  for (const [k, v] of r.drv.env) {
    if (k.includes('\0') || v.includes('\0') || k.includes('=')) throw new FarmError('INVALID_ARGUMENT', `environment variable '${k}' of '${r.drvPath}' cannot be passed to a process`);
  }
  return type === 'fixed-output';
}

/**
 * /etc/passwd, /etc/group and /etc/hosts for every sandbox of one work dir, in a directory that
 * holds exactly those three (it is bound as the sandbox's /etc): the same bytes for each build,
 * bound read-only, so they are written once per work dir (checked once per process) instead of
 * per build. The directory is filled under a temporary name and renamed into place, so a build
 * never binds it half-written; one left by an older version or an interrupted write is replaced.
 */
const checkedEtcDirs = new Set<string>();
function sharedEtcDir(workDir: string): string {
  const dir = join(workDir, 'sandbox-etc');
  if (checkedEtcDirs.has(dir)) return dir;
  const expected = [
    ['group', etcGroup()],
    ['hosts', etcHosts()],
    ['passwd', etcPasswd()],
  ] as const;
  const current = existsSync(dir) ? readdirSync(dir).sort() : [];
  const intact = current.join(' ') === 'group hosts passwd' && expected.every(([name, contents]) => readFileSync(join(dir, name), 'utf8') === contents);
  if (!intact) {
    const tmp = join(workDir, `.sandbox-etc-${process.pid}-${randomBytes(4).toString('hex')}`);
    mkdirSync(tmp, { mode: 0o755 });
    for (const [name, contents] of expected) writeFileSync(join(tmp, name), contents, { mode: 0o644 });
    rmSync(dir, { recursive: true, force: true });
    try {
      renameSync(tmp, dir);
    } catch (e) {
      // Another process of this work dir put its identical copy in place first.
      rmSync(tmp, { recursive: true, force: true });
      if (!existsSync(join(dir, 'hosts'))) throw e;
    }
  }
  checkedEtcDirs.add(dir);
  return dir;
}

/**
 * The sandbox paths resolved against this host, once per process and configuration: the host's
 * /bin, /usr… do not come and go between builds, and each check is a few syscalls per build.
 */
const resolvedSandboxPaths = new Map<string, SandboxBind[]>();
function sandboxBinds(entries: readonly string[]): SandboxBind[] {
  const key = entries.join('\0');
  let binds = resolvedSandboxPaths.get(key);
  if (binds === undefined) {
    binds = preferSymlinks(resolveSandboxPaths(entries));
    resolvedSandboxPaths.set(key, binds);
  }
  return binds;
}

/** The host path behind what the sandbox shows at `path`, through the bind with the longest matching target. */
function hostPathIn(binds: readonly SandboxBind[], path: string): string | undefined {
  let best: SandboxBind | undefined;
  for (const b of binds) {
    if ((path === b.target || path.startsWith(`${b.target}/`)) && (best === undefined || b.target.length > best.target.length)) best = b;
  }
  return best === undefined ? undefined : best.source + path.slice(best.target.length);
}

/** bwrap's path, looked up on PATH once per process rather than once per build. */
let bwrapPath: string | undefined;
function bwrapOnPath(): string {
  bwrapPath ??= findOnPath('bwrap');
  return bwrapPath;
}

function findOnPath(program: string): string {
  for (const dir of (process.env['PATH'] ?? '/usr/bin:/bin').split(delimiter)) {
    const p = join(dir, program);
    try {
      accessSync(p, constants.X_OK);
      return p;
    } catch {
      // keep looking
    }
  }
  throw new FarmError('FAILED_PRECONDITION', `'${program}' was not found on PATH; the agent needs bubblewrap to build`);
}
