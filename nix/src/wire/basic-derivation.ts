/**
 * BasicDerivation on the wire (spec §5.4): outputs (name, path, hashAlgo, hash), inputSrcs,
 * platform, builder, args, env. No name and no inputDrvs: the receiver takes the name from the
 * drv path and the build hook replaces inputSrcs by the whole input closure.
 * TODO(derivation): nix/src/derivation/basic.ts did not exist when this was written; this
 * structural interface has the same fields so the two can be unified.
 *
 * Invariants: maps are written in byte order (Nix's std::map), inputSrcs as a sorted set;
 * duplicate output names or env keys on the wire are rejected rather than silently merged.
 */
import { NixFormatError } from '../errors.js';
import { compareBytes } from '../store-path/index.js';
import type { WireReader } from './reader.js';
import type { WireWriter } from './writer.js';

export interface WireDerivationOutput {
  /** Always filled in by Nix's writer, also for fixed-output outputs. */
  readonly path: string;
  /** `r:sha256`, `sha256`, … or "" for input-addressed outputs. */
  readonly hashAlgo: string;
  /** Base16 hash for fixed outputs, else "". */
  readonly hash: string;
}

export interface WireBasicDerivation {
  readonly outputs: ReadonlyMap<string, WireDerivationOutput>;
  readonly inputSrcs: readonly string[];
  readonly platform: string;
  readonly builder: string;
  readonly args: readonly string[];
  readonly env: ReadonlyMap<string, string>;
}

function sortedEntries<V>(m: ReadonlyMap<string, V>): Array<[string, V]> {
  return [...m.entries()].sort((a, b) => compareBytes(a[0], b[0]));
}

export function writeBasicDerivation(w: WireWriter, d: WireBasicDerivation): void {
  const outputs = sortedEntries(d.outputs);
  w.u64(outputs.length);
  for (const [name, o] of outputs) w.string(name).string(o.path).string(o.hashAlgo).string(o.hash);
  w.stringSet(d.inputSrcs).string(d.platform).string(d.builder).strings(d.args).stringMap(d.env);
}

export async function readBasicDerivation(r: WireReader): Promise<WireBasicDerivation> {
  const outputs = new Map<string, WireDerivationOutput>();
  const nOutputs = await r.readCount('derivation outputs');
  for (let i = 0; i < nOutputs; i++) {
    const at = r.offset;
    const name = await r.readString('output name');
    const path = await r.readString('output path');
    const hashAlgo = await r.readString('output hashAlgo');
    const hash = await r.readString('output hash');
    if (outputs.has(name)) throw new NixFormatError('BAD_WIRE', `duplicate derivation output ${JSON.stringify(name)}`, { offset: at });
    outputs.set(name, { path, hashAlgo, hash });
  }
  const inputSrcs = await r.readStrings('inputSrcs');
  const platform = await r.readString('platform');
  const builder = await r.readString('builder');
  const args = await r.readStrings('args');
  const env = new Map<string, string>();
  const nEnv = await r.readCount('env');
  for (let i = 0; i < nEnv; i++) {
    const at = r.offset;
    const key = await r.readString('env name');
    const value = await r.readString('env value');
    if (env.has(key)) throw new NixFormatError('BAD_WIRE', `duplicate env variable ${JSON.stringify(key)}`, { offset: at });
    env.set(key, value);
  }
  return { outputs, inputSrcs, platform, builder, args, env };
}
