/**
 * BasicDerivation on the wire (spec §5.4): outputs (name, path, hashAlgo, hash), inputSrcs,
 * platform, builder, args, env. No name and no inputDrvs: the receiver takes the name from the
 * drv path and the build hook replaces inputSrcs by the whole input closure.
 * The value type is the derivation module's BasicDerivation (`system` is `platform` on the wire).
 *
 * Invariants: maps are written in byte order (Nix's std::map), inputSrcs as a sorted set;
 * duplicate output names or env keys on the wire are rejected rather than silently merged.
 */
import { NixFormatError } from '../errors.js';
import { compareBytes } from '../store-path/index.js';
import type { BasicDerivation, DerivationOutput } from '../derivation/index.js';
import type { WireReader } from './reader.js';
import type { WireWriter } from './writer.js';

/** The wire form carries exactly the fields of the derivation module's BasicDerivation. */
export type WireBasicDerivation = BasicDerivation;

function sortedEntries<V>(m: ReadonlyMap<string, V>): Array<[string, V]> {
  return [...m.entries()].sort((a, b) => compareBytes(a[0], b[0]));
}

export function writeBasicDerivation(w: WireWriter, d: WireBasicDerivation): void {
  const outputs = sortedEntries(d.outputs);
  w.u64(outputs.length);
  for (const [name, o] of outputs) w.string(name).string(o.path).string(o.hashAlgo).string(o.hash);
  w.stringSet(d.inputSrcs).string(d.system).string(d.builder).strings(d.args).stringMap(d.env);
}

export async function readBasicDerivation(r: WireReader): Promise<WireBasicDerivation> {
  const outputs = new Map<string, DerivationOutput>();
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
  const system = await r.readString('platform');
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
  return { outputs, inputSrcs, system, builder, args, env };
}
