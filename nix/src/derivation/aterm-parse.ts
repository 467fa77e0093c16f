/**
 * Strict parser for `.drv` files (spec §5.1):
 *   Derive([outputs],[inputDrvs],[inputSrcs],"system","builder",[args],[env])
 *
 * Accepts exactly what Nix writes and nothing else, so that every accepted file re-serialises to
 * the same bytes: no whitespace, only Nix's escapes, outputs/inputDrvs/inputSrcs/env strictly
 * sorted bytewise without duplicates, store paths valid and directly in the store dir, output
 * tuples consistent (see output-kind.ts). Errors are NixFormatError('BAD_DERIVATION') with the
 * byte offset of the offending token.
 *
 * Complexity: O(n) in the input size; no recursion (the grammar has a fixed depth, so hostile
 * nesting such as `Derive([[[[…` is rejected at the first unexpected byte).
 */
import { NixFormatError } from '../errors.js';
import { DEFAULT_STORE_DIR, parseStorePath } from '../store-path/store-path.js';
import { AtermReader, quoteForMessage as q } from './aterm-reader.js';
import { compareUtf8 } from './byte-order.js';
import { classifyOutput, derivationType } from './output-kind.js';
import type { Derivation, DerivationOutput } from './types.js';

export interface ParseDerivationOptions {
  /** The logical store directory paths must live in (default `/nix/store`). */
  readonly storeDir?: string;
}

const OUTPUT_NAME_RE = /^[0-9a-zA-Z+\-._?=]+$/;

export function parseDerivation(input: Uint8Array | string, options: ParseDerivationOptions = {}): Derivation {
  const bytes = typeof input === 'string' ? new TextEncoder().encode(input) : input;
  return new DerivationParser(new AtermReader(bytes), options.storeDir ?? DEFAULT_STORE_DIR).parse();
}

class DerivationParser {
  constructor(
    private readonly r: AtermReader,
    private readonly storeDir: string,
  ) {}

  parse(): Derivation {
    const r = this.r;
    r.expect('Derive(', 'derivation');
    const outputs = this.outputs();
    r.expect(',', 'after outputs');
    const inputDrvs = this.inputDrvs();
    r.expect(',', 'after inputDrvs');
    const inputSrcs = this.inputSrcs();
    r.expect(',', 'after inputSrcs');
    const system = r.readString('raw', 'system');
    r.expect(',', 'after system');
    const builder = r.readString('escaped', 'builder');
    r.expect(',', 'after builder');
    const args = this.args();
    r.expect(',', 'after args');
    const env = this.env();
    r.expect(')', 'end of derivation');
    if (!r.atEnd) throw r.fail(`trailing data after the derivation: ${r.describe()}`);
    const drv: Derivation = { outputs, inputDrvs, inputSrcs, system, builder, args, env };
    try {
      derivationType(drv, this.storeDir);
    } catch (e) {
      if (e instanceof NixFormatError) throw new NixFormatError('BAD_DERIVATION', `inconsistent outputs: ${e.message}`, { offset: 7, cause: e });
      throw e;
    }
    return drv;
  }

  /** Fails unless `key` sorts strictly after `prev` (bytewise), naming the list and offset. */
  private checkOrder(prev: string | undefined, key: string, what: string, offset: number): void {
    if (prev === undefined) return;
    const c = compareUtf8(prev, key);
    if (c === 0) throw this.r.fail(`duplicate ${what} ${q(key)}`, offset, what);
    if (c > 0) throw this.r.fail(`${what} ${q(key)} is out of order (must sort after ${q(prev)})`, offset, what);
  }

  private storePath(value: string, what: string, offset: number): void {
    try {
      parseStorePath(value, this.storeDir);
    } catch (e) {
      throw new NixFormatError('BAD_DERIVATION', `${what}: ${(e as Error).message}`, { offset, field: what, cause: e });
    }
  }

  private outputName(value: string, what: string, offset: number): void {
    if (!OUTPUT_NAME_RE.test(value)) throw this.r.fail(`${what} ${q(value)} is not a valid output name`, offset, what);
  }

  private outputs(): Map<string, DerivationOutput> {
    const r = this.r;
    const outputs = new Map<string, DerivationOutput>();
    if (r.openList('outputs')) throw r.fail('a derivation must have at least one output', r.pos - 1, 'outputs');
    let prev: string | undefined;
    do {
      const tupleStart = r.pos;
      r.expect('(', 'output tuple');
      const nameAt = r.pos;
      const name = r.readString('raw', 'output name');
      this.outputName(name, 'output name', nameAt);
      this.checkOrder(prev, name, 'output name', nameAt);
      prev = name;
      r.expect(',', `output '${name}'`);
      const path = r.readString('raw', `outputs.${name}.path`);
      r.expect(',', `output '${name}'`);
      const hashAlgo = r.readString('raw', `outputs.${name}.hashAlgo`);
      r.expect(',', `output '${name}'`);
      const hash = r.readString('raw', `outputs.${name}.hash`);
      r.expect(')', `output '${name}'`);
      const output = { path, hashAlgo, hash };
      try {
        classifyOutput(name, output, this.storeDir);
      } catch (e) {
        if (e instanceof NixFormatError) throw new NixFormatError('BAD_DERIVATION', e.message, { offset: tupleStart, field: e.field ?? 'outputs', cause: e });
        throw e;
      }
      outputs.set(name, output);
    } while (!r.separatorOrClose(']', 'outputs'));
    return outputs;
  }

  private inputDrvs(): Map<string, readonly string[]> {
    const r = this.r;
    const inputs = new Map<string, readonly string[]>();
    if (r.openList('inputDrvs')) return inputs;
    let prev: string | undefined;
    do {
      r.expect('(', 'input derivation tuple');
      const pathAt = r.pos;
      const drvPath = r.readString('raw', 'input derivation path');
      this.storePath(drvPath, 'input derivation path', pathAt);
      if (!drvPath.endsWith('.drv')) throw r.fail(`input derivation path '${drvPath}' does not end in .drv`, pathAt, 'inputDrvs');
      this.checkOrder(prev, drvPath, 'input derivation path', pathAt);
      prev = drvPath;
      r.expect(',', `input derivation '${drvPath}'`);
      const names: string[] = [];
      if (r.openList(`outputs of input derivation '${drvPath}'`)) {
        throw r.fail(`input derivation '${drvPath}' lists no outputs`, r.pos - 1, 'inputDrvs');
      }
      do {
        const nameAt = r.pos;
        const name = r.readString('raw', 'input derivation output name');
        this.outputName(name, 'input derivation output name', nameAt);
        this.checkOrder(names[names.length - 1], name, 'input derivation output name', nameAt);
        names.push(name);
      } while (!r.separatorOrClose(']', `outputs of input derivation '${drvPath}'`));
      r.expect(')', `input derivation '${drvPath}'`);
      inputs.set(drvPath, names);
    } while (!r.separatorOrClose(']', 'inputDrvs'));
    return inputs;
  }

  private inputSrcs(): string[] {
    const r = this.r;
    const srcs: string[] = [];
    if (r.openList('inputSrcs')) return srcs;
    do {
      const at = r.pos;
      const path = r.readString('raw', 'input source path');
      this.storePath(path, 'input source path', at);
      this.checkOrder(srcs[srcs.length - 1], path, 'input source path', at);
      srcs.push(path);
    } while (!r.separatorOrClose(']', 'inputSrcs'));
    return srcs;
  }

  private args(): string[] {
    const r = this.r;
    const args: string[] = [];
    if (r.openList('args')) return args;
    do args.push(r.readString('escaped', `args[${args.length}]`));
    while (!r.separatorOrClose(']', 'args'));
    return args;
  }

  private env(): Map<string, string> {
    const r = this.r;
    const env = new Map<string, string>();
    if (r.openList('env')) return env;
    let prev: string | undefined;
    do {
      r.expect('(', 'env tuple');
      const nameAt = r.pos;
      const name = r.readString('escaped', 'env name');
      this.checkOrder(prev, name, 'env name', nameAt);
      prev = name;
      r.expect(',', `env ${q(name)}`);
      env.set(name, r.readString('escaped', `env.${name.length > 80 ? name.slice(0, 80) + '…' : name}`));
      r.expect(')', `env ${q(name)}`);
    } while (!r.separatorOrClose(']', 'env'));
    return env;
  }
}
