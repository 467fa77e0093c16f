/**
 * How a Nix 2.8 client starts the remote side of `ssh://` (serve) and `ssh-ng://` (worker)
 * stores (spec §6.1, §7.1): the remote command string, and the argv given to `ssh` for any host
 * other than `localhost` (for `localhost` Nix runs `bash -c "<command>"` instead).
 */
export type RemoteProtocol = 'serve' | 'worker';

export const URI_SCHEMES: Readonly<Record<RemoteProtocol, string>> = { serve: 'ssh', worker: 'ssh-ng' };

const DEFAULT_REMOTE_PROGRAM: Readonly<Record<RemoteProtocol, string>> = { serve: 'nix-store', worker: 'nix-daemon' };
const PROTOCOL_ARGS: Readonly<Record<RemoteProtocol, string>> = { serve: '--serve --write', worker: '--stdio' };

/** Nix's shellEscape: single quotes, with embedded quotes written as '\''. */
export function shellEscape(s: string): string {
  return `'${s.replaceAll("'", "'\\''")}'`;
}

/** `<remote-program> --serve --write` / `--stdio`, plus ` --store <quoted>` for remote-store. */
export function remoteCommand(protocol: RemoteProtocol, remoteProgram?: string, remoteStore?: string): string {
  const base = `${remoteProgram ?? DEFAULT_REMOTE_PROGRAM[protocol]} ${PROTOCOL_ARGS[protocol]}`;
  return remoteStore === undefined ? base : `${base} --store ${shellEscape(remoteStore)}`;
}

export interface SshOptions {
  /** NIX_SSHOPTS, already split into words. */
  readonly extraOptions?: readonly string[];
  readonly sshKey?: string;
  readonly compress?: boolean;
}

/** The arguments after `ssh` (Nix 2.8 … 2.19): host, -x, -a, options, then the command string. */
export function sshArgv(host: string, command: string, options: SshOptions = {}): string[] {
  return [
    host,
    '-x',
    '-a',
    ...(options.extraOptions ?? []),
    ...(options.sshKey === undefined ? [] : ['-i', options.sshKey]),
    ...(options.compress === true ? ['-C'] : []),
    command,
  ];
}
