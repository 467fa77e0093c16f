/**
 * `farm drv show`, run: parse each .drv file, recompute its drv path and output paths and print
 * `nix show-derivation`-shaped JSON with a `farm` check object per derivation (see
 * commands/drv-show.ts for the contract). Loaded by that command when it runs.
 */
import { readFile } from 'node:fs/promises';
import { basename, dirname, join } from 'node:path';
import type { Writable } from 'node:stream';
import {
  DEFAULT_STORE_DIR,
  computeOutputPaths,
  derivationNameFromPath,
  derivationPath,
  isStorePath,
  parseDerivation,
  showDerivationEntry,
  type Derivation,
  type DrvHashMemo,
  type InputDerivationResolver,
  type ShowDerivationEntry,
} from '@farm/nix';

interface FarmCheck {
  drvPath: { path: string; file: string | null; matches: boolean };
  outputs: Record<string, { path: string | null; matches: boolean }>;
}

export interface DrvShowOptions {
  readonly storeDir: string | undefined;
  readonly root: string | undefined;
  readonly files: readonly string[];
  readonly stdout: Writable;
  readonly stderr: Writable;
}

export function showDerivations(options: DrvShowOptions): Promise<number> {
  return new DrvShow(options).run();
}

class DrvShow {
  constructor(private readonly options: DrvShowOptions) {}

  async run(): Promise<number> {
    if (this.options.storeDir !== undefined && this.options.root !== undefined) {
      this.options.stderr.write('farm drv show: use either --store-dir or --root, not both\n');
      return 1;
    }
    const result: Record<string, ShowDerivationEntry & { farm: FarmCheck }> = {};
    const memo: DrvHashMemo = new Map();
    for (const file of this.options.files) {
      try {
        const [key, entry] = await this.showOne(file, memo);
        Object.defineProperty(result, key, { value: entry, enumerable: true, writable: true, configurable: true });
      } catch (e) {
        const message = e instanceof Error ? e.message : String(e);
        this.options.stderr.write(`farm drv show: ${file}: ${message.replace(/\s*\n\s*/g, ' ')}\n`);
        return 1;
      }
    }
    this.options.stdout.write(`${JSON.stringify(result, null, 2)}\n`);
    return 0;
  }

  private lookupDir(file: string): string {
    if (this.options.storeDir !== undefined) return this.options.storeDir;
    if (this.options.root !== undefined) return join(this.options.root, DEFAULT_STORE_DIR);
    return dirname(file);
  }

  private async showOne(file: string, memo: DrvHashMemo): Promise<[string, ShowDerivationEntry & { farm: FarmCheck }]> {
    const drv = parseDerivation(await readFile(file));
    const base = basename(file);
    const candidate = `${DEFAULT_STORE_DIR}/${base}`;
    const fileDrvPath = base.endsWith('.drv') && isStorePath(candidate) ? candidate : undefined;
    const name = fileDrvPath !== undefined ? derivationNameFromPath(fileDrvPath) : drv.env.get('name');
    if (name === undefined || name === '') throw new Error('file name is not a store path and the derivation has no name env variable');
    const computed = derivationPath(drv, name);
    const key = fileDrvPath ?? computed;
    const outputs = await computeOutputPaths(drv, name, this.resolver(this.lookupDir(file)), { memo });
    const farm: FarmCheck = { drvPath: { path: computed, file: fileDrvPath ?? null, matches: computed === fileDrvPath }, outputs: {} };
    for (const [o, p] of outputs) {
      const claimed = drv.outputs.get(o)?.path ?? '';
      farm.outputs[o] = { path: p ?? null, matches: p === undefined ? claimed === '' : p === claimed };
    }
    return [key, { ...showDerivationEntry(key, drv), farm }];
  }

  private resolver(dir: string): InputDerivationResolver {
    return async (drvPath: string): Promise<Derivation> => {
      const path = join(dir, basename(drvPath));
      let bytes: Buffer;
      try {
        bytes = await readFile(path);
      } catch (e) {
        throw new Error(`cannot read input derivation ${drvPath} (looked for ${path}): ${(e as NodeJS.ErrnoException).code ?? String(e)}`);
      }
      try {
        return parseDerivation(bytes);
      } catch (e) {
        throw new Error(`input derivation ${drvPath}: ${(e as Error).message}`);
      }
    };
  }
}
