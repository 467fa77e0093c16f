/**
 * The /etc files Nix writes into its chroot (local-derivation-goal.cc, startBuilder): a passwd and
 * group naming the build user nixbld (uid 1000, gid 100 — Nix's sandboxUid/sandboxGid without
 * uid-range) and root, and a hosts file that only knows localhost. Fixed-output derivations
 * additionally get the host's /etc/resolv.conf, /etc/services and /etc/hosts (the caller binds
 * those), because they may use the network.
 */
import { SANDBOX_BUILD_DIR } from './build-env.js';

export const SANDBOX_UID = 1000;
export const SANDBOX_GID = 100;

export function etcPasswd(): string {
  return (
    `root:x:0:0:Nix build user:${SANDBOX_BUILD_DIR}:/noshell\n` +
    `nixbld:x:${SANDBOX_UID}:${SANDBOX_GID}:Nix build user:${SANDBOX_BUILD_DIR}:/noshell\n` +
    `nobody:x:65534:65534:Nobody:/:/noshell\n`
  );
}

export function etcGroup(): string {
  return `root:x:0:\nnixbld:!:${SANDBOX_GID}:\nnogroup:x:65534:\n`;
}

export function etcHosts(): string {
  return '127.0.0.1 localhost\n::1 localhost\n';
}
