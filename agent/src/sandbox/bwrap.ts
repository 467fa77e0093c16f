/**
 * The bubblewrap command line for one build, shaped like Nix 2.8's Linux sandbox
 * (local-derivation-goal.cc), run by root with bwrap 0.8 (not setuid).
 *
 * Layout inside the sandbox, and why:
 * - `/` is bwrap's private tmpfs, remounted read-only once every mount point exists, so the build
 *   can write nowhere but the two writable mounts below (there is no /tmp: like Nix, the build dir
 *   is the only scratch space, and TMPDIR points at it).
 * - `/nix/store` is a fresh, writable host directory (the "scratch store"). Each path of the
 *   input closure is bind-mounted into it read-only, one by one, so that exactly the closure is
 *   visible and inputs cannot be modified. The builder creates its outputs there; afterwards the
 *   host picks the declared outputs out of the scratch store and discards everything else (as in
 *   Nix, a builder may create other names in its store; they never leave the sandbox).
 * - `/build` is a fresh writable host directory, the build dir and cwd (Nix's sandbox-build-dir).
 * - `/etc/passwd`, `/etc/group`, `/etc/hosts` are Nix's (nixbld uid 1000 / gid 100, localhost).
 *   Fixed-output derivations also see the host's resolv.conf, services and hosts.
 * - `/proc` is a fresh procfs of the build's own pid namespace, `/dev` a minimal devtmpfs
 *   (null, zero, full, random, urandom, tty, pts, shm).
 * - The configured sandbox paths (`/bin/sh`, `/usr`, … or `target=source`) are bound read-only.
 *
 * Namespaces: every one bwrap can create (`--unshare-all`: user, ipc, pid, net, uts, cgroup);
 * the network namespace is shared only for fixed-output derivations (`--share-net`), as Nix
 * does. The user namespace maps the build user uid 1000 / gid 100 (what Nix uses inside its
 * sandbox without uid-range) onto host root; it has no capabilities, so it cannot remount,
 * mount, or write the read-only binds. One consequence to know: files the host root owns appear
 * owned by uid 1000 inside (Nix shows them as nobody); permissions still forbid writes because
 * the mounts are read-only.
 *
 * Process lifetime: bwrap runs the builder under its own pid-1 in the new pid namespace, so
 * killing that init (its host pid comes from --json-status-fd) kills every process the build
 * started, including background ones; `--die-with-parent` covers the agent dying. `--new-session`
 * keeps the builder off the agent's terminal, as Nix's setsid() does.
 *
 * The options are passed through `--args FD` (NUL-separated) so that large environments and long
 * input closures never meet ARG_MAX and do not show up in `ps`; only the builder's own argv is
 * on the command line (bwrap does not accept the command inside --args).
 */
import { join } from 'node:path';
import { SANDBOX_BUILD_DIR, SANDBOX_STORE_DIR } from './build-env.js';
import { SANDBOX_GID, SANDBOX_UID } from './etc-files.js';
import type { SandboxBind } from './sandbox-paths.js';

export interface SandboxLayout {
  /** Host dir bound writable at /nix/store. */
  readonly scratchStore: string;
  /** Host dir bound writable at /build. */
  readonly buildDir: string;
  /** Host dir holding exactly Nix's /etc files: passwd, group and hosts (see bwrapArguments). */
  readonly etcDir: string;
  /** Input closure: host source → full store path as seen inside. */
  readonly inputs: readonly SandboxBind[];
  readonly sandboxPaths: readonly SandboxBind[];
  /** Fixed-output derivations only. */
  readonly network: boolean;
  readonly env: ReadonlyMap<string, string>;
  readonly builder: string;
  readonly args: readonly string[];
}

export interface BwrapCommandLine {
  /** Options, passed through `--args FD` (bwrap accepts only options there). */
  readonly options: string[];
  /** `--`, the builder and its arguments: the command line proper. */
  readonly command: string[];
}

/** bwrap's options and command for `layout`. */
export function bwrapArguments(layout: SandboxLayout): BwrapCommandLine {
  const a: string[] = ['--unshare-all', '--unshare-user', '--uid', String(SANDBOX_UID), '--gid', String(SANDBOX_GID)];
  if (layout.network) a.push('--share-net');
  a.push('--cap-drop', 'ALL', '--die-with-parent', '--new-session', '--hostname', 'localhost');
  a.push('--proc', '/proc', '--dev', '/dev');
  for (const b of layout.sandboxPaths) a.push(...(b.symlink !== undefined ? ['--symlink', b.symlink, b.target] : ['--ro-bind', b.source, b.target]));
  const etcPathInside = layout.sandboxPaths.some((b) => b.target === '/etc' || b.target.startsWith('/etc/'));
  if (!layout.network && !etcPathInside) {
    // The usual case: one bind of the directory. Every bind costs bwrap a mount and a read of
    // /proc/self/mountinfo; two fewer save ~1 ms a build.
    a.push('--ro-bind', layout.etcDir, '/etc');
  } else {
    // File by file: fixed-output builds add the host's network files, and a sandbox path inside
    // /etc needs its mount point created in a writable /etc.
    a.push('--ro-bind', join(layout.etcDir, 'passwd'), '/etc/passwd', '--ro-bind', join(layout.etcDir, 'group'), '/etc/group');
    if (layout.network) {
      a.push('--ro-bind-try', '/etc/hosts', '/etc/hosts', '--ro-bind-try', '/etc/resolv.conf', '/etc/resolv.conf');
      a.push('--ro-bind-try', '/etc/services', '/etc/services');
    } else {
      a.push('--ro-bind', join(layout.etcDir, 'hosts'), '/etc/hosts');
    }
  }
  a.push('--bind', layout.scratchStore, SANDBOX_STORE_DIR);
  for (const b of layout.inputs) a.push('--ro-bind', b.source, b.target);
  a.push('--bind', layout.buildDir, SANDBOX_BUILD_DIR);
  a.push('--remount-ro', '/', '--chdir', SANDBOX_BUILD_DIR);
  a.push('--clearenv');
  for (const [k, v] of layout.env) a.push('--setenv', k, v);
  return { options: a, command: ['--', layout.builder, ...layout.args] };
}

/** The `--args FD` payload: every argument NUL-terminated. Arguments may not contain NUL. */
export function encodeArgs(args: readonly string[]): string {
  return args.map((s) => `${s}\0`).join('');
}
