/**
 * Evaluates an installable with the local Nix and returns its root derivations, each with its
 * attribute path, `.drv` path (instantiated into the local store by the evaluation) and output
 * paths. One `nix eval --json --apply <walker>` per installable; `.drv` installables are read
 * from the store without evaluating anything.
 */
import { readFileSync } from 'node:fs';
import { FarmError } from '@farm/common';
import { DEFAULT_STORE_DIR, derivationNameFromPath, parseDerivation } from '@farm/nix';
import type { Installable } from './installable.js';
import { nixErrorSummary, runNix, type NixToolOptions } from './run-nix.js';
import { decodeWalkerOutput, WALKER_EXPRESSION, type EvaluatedRoot } from './walker.js';

export interface EvaluateOptions extends NixToolOptions {
  readonly storeDir?: string;
  /** Let Nix write a missing flake.lock; default false (the farm does not change the user's tree). */
  readonly writeLockFile?: boolean;
}

export async function evaluateInstallable(installable: Installable, options: EvaluateOptions = {}): Promise<EvaluatedRoot[]> {
  if (installable.kind === 'drv') return [readDrvRoot(installable.drvPath, installable.text, options.storeDir ?? DEFAULT_STORE_DIR)];
  const args = ['eval', '--json', '--option', 'substituters', '', ...(options.extraNixArgs ?? [])];
  if (installable.kind === 'flake') {
    if (options.writeLockFile !== true) args.push('--no-write-lock-file');
    args.push(`${installable.flakeRef}#${installable.attrPath}`);
  } else {
    args.push('--file', installable.file);
    if (installable.attrPath !== '') args.push(installable.attrPath);
  }
  args.push('--apply', WALKER_EXPRESSION);
  const run = await runNix(args, options);
  if (run.code !== 0) {
    const message = nixErrorSummary(run.stderr);
    throw new FarmError('INVALID_ARGUMENT', `cannot evaluate ${installable.text}:\n${message}`, {
      installable: installable.text,
      nixError: message,
    });
  }
  return decodeWalkerOutput(run.stdout.toString('utf8'), installable.attrPath, installable.text);
}

/** Evaluates several installables in turn and concatenates their roots (duplicates kept). */
export async function evaluateInstallables(installables: readonly Installable[], options: EvaluateOptions = {}): Promise<EvaluatedRoot[]> {
  const roots: EvaluatedRoot[] = [];
  for (const i of installables) roots.push(...(await evaluateInstallable(i, options)));
  return roots;
}

/** The distinct `.drv` paths of some roots, in first-seen order. */
export function rootDrvPaths(roots: readonly EvaluatedRoot[]): string[] {
  return [...new Set(roots.map((r) => r.drvPath))];
}

function readDrvRoot(drvPath: string, text: string, storeDir: string): EvaluatedRoot {
  let bytes: Buffer;
  try {
    bytes = readFileSync(drvPath);
  } catch (e) {
    throw new FarmError('NOT_FOUND', `cannot read ${text}: ${(e as Error).message}`, { installable: text }, { cause: e });
  }
  let drv;
  try {
    drv = parseDerivation(bytes, { storeDir });
  } catch (e) {
    throw new FarmError('INVALID_ARGUMENT', `${text} is not a valid derivation: ${(e as Error).message}`, { installable: text }, { cause: e });
  }
  const name = derivationNameFromPath(drvPath, storeDir);
  const outputs: Record<string, string> = {};
  for (const [o, out] of drv.outputs) outputs[o] = out.path;
  return { attrPath: name, drvPath, name, system: drv.system, outputs };
}
