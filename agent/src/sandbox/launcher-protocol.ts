/**
 * The messages between the agent and its launcher process (launcher-main.ts), over the Node IPC
 * channel (JSON). The launcher exists so that the agent never forks itself per build: forking a
 * process copies its page tables, which for the agent (large heap) cost ~6 ms of CPU per build,
 * against ~1 ms for the small launcher.
 *
 * A build's stdout and stderr are one unix socket that the launcher connects to the agent's log
 * server and hands to bwrap as fds 1 and 2, so the log goes from the builder to the agent with no
 * relay, and in the order written (Nix's single log pipe). The connection starts with the
 * launch's token and a newline, which is how the agent knows whose log it is.
 */

/** Agent → launcher: start one bwrap. */
export interface LaunchRequest {
  readonly type: 'launch';
  /** 32 hex characters, random: names the launch in every event and on the log connection. */
  readonly token: string;
  readonly file: string;
  readonly args: readonly string[];
  /**
   * Written by the launcher into a pipe that is the child's fd 4 (bwrap `--args 4`): options
   * each followed by NUL. A pipe, not a file, saves creating and removing a file per build.
   */
  readonly fd4: string;
  /** The agent's log server (an abstract unix socket name, starting with NUL). */
  readonly logSocket: string;
}

/** Launcher → agent. */
export type LauncherEvent =
  /** bwrap is running as `pid`. */
  | { readonly type: 'spawned'; readonly token: string; readonly pid: number }
  /** Text bwrap wrote to its `--json-status-fd` (fd 3), relayed as it arrives. */
  | { readonly type: 'status'; readonly token: string; readonly text: string }
  /** bwrap exited (after its status fd closed). */
  | { readonly type: 'exit'; readonly token: string; readonly code: number | null; readonly signal: string | null }
  /** Nothing was started. `logConnected` says whether the log connection was opened (then it is closed). */
  | { readonly type: 'failed'; readonly token: string; readonly message: string; readonly logConnected: boolean };

/** Length of the log connection's header: the token and a newline. */
export const LOG_HEADER_BYTES = 33;
