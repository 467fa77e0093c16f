/**
 * PathInfo: what Nix knows about one valid store path (Nix's ValidPathInfo). The same record
 * travels in narinfo files, in serve-protocol QueryPathInfos replies and in worker-protocol
 * path infos; each codec renders it in its own textual form (narinfo: base names and
 * `sha256:<nix32>`; worker: full paths and base16), so this type holds the parsed values only.
 *
 * Sizes and times are u64 on the wire, hence bigint: a NAR may exceed 2^53 bytes in principle,
 * and a silently rounded narSize would make every signature over it wrong.
 */
import type { Hash } from './hash/hash.js';

export interface PathInfo {
  /** Full store path, e.g. `/nix/store/<hash>-<name>`. */
  readonly path: string;
  /** Full store path of the `.drv` that produced it; absent when unknown. */
  readonly deriver?: string;
  /** Hash of the NAR serialisation (sha256 in practice). */
  readonly narHash: Hash;
  /** Size of the NAR serialisation in bytes. */
  readonly narSize: bigint;
  /** Full store paths this path refers to, sorted bytewise, without duplicates. */
  readonly references: readonly string[];
  /** Seconds since the epoch when the path became valid; 0n when unknown (e.g. from a narinfo). */
  readonly registrationTime: bigint;
  /** True when the path was built locally (trusted without signatures). */
  readonly ultimate: boolean;
  /** Signatures `<keyName>:<base64 of 64 bytes>`, in the order received. */
  readonly sigs: readonly string[];
  /** Content address as rendered by Nix (`text:sha256:…`, `fixed:r:sha256:…`); absent when input-addressed. */
  readonly ca?: string;
}
