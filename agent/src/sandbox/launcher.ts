/**
 * The agent's side of the launcher (see launcher-protocol.ts): one launcher process per agent,
 * started on first use and again if it dies, and a log server its children write to.
 *
 * Invariants:
 * - A launch ends (`closed` resolves) only after bwrap exited and its log connection reached
 *   end of file, so every byte the build wrote was delivered to `onLog` first.
 * - If the launcher process dies, every launch in flight ends as a setup failure (their sandboxes
 *   died with it: bwrap --die-with-parent), and the next launch starts a new launcher.
 * - While nothing is in flight the launcher and the server do not keep the agent's event loop
 *   alive.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { createServer, type Server, type Socket } from 'node:net';
import { fileURLToPath } from 'node:url';
import { LOG_HEADER_BYTES, type LaunchRequest, type LauncherEvent } from './launcher-protocol.js';

export interface LaunchOptions {
  readonly file: string;
  readonly args: readonly string[];
  /** The child's fd 4, a pipe: see LaunchRequest.fd4. */
  readonly fd4: string;
  readonly onLog: (chunk: Buffer) => void;
  readonly onStatus: (text: string) => void;
}

export interface Launched {
  /** bwrap's pid once it runs; undefined when nothing was started. */
  readonly pid: Promise<number | undefined>;
  /** bwrap's exit, after its log closed. `error` when it never ran or the launcher died. */
  readonly closed: Promise<{ code: number | null; signal: string | null; error?: string }>;
}

interface InFlight {
  readonly options: LaunchOptions;
  exit?: { code: number | null; signal: string | null; error?: string };
  logEnded: boolean;
  /** Set when the launcher reported that no log connection exists or will arrive. */
  noLog: boolean;
  grace?: NodeJS.Timeout;
  resolvePid: (pid: number | undefined) => void;
  resolveClosed: (r: { code: number | null; signal: string | null; error?: string }) => void;
}

const HELPER = fileURLToPath(new URL('./launcher-main.js', import.meta.url));
/** The launcher only forks and relays: a small heap keeps its forks cheap. */
const HELPER_FLAGS = ['--max-semi-space-size=1', '--max-old-space-size=64'];
/**
 * A log connection that has not named its launch by then is dropped, and no more than this many
 * unnamed ones are kept: the log server is an abstract socket, reachable by any process in the
 * host's network namespace (fixed-output builds share it), which can only ever open connections
 * that are closed (the 128-bit token is never guessed), and cannot pile them up.
 */
const HEADER_TIMEOUT_MS = 10_000;
const MAX_UNNAMED_CONNECTIONS = 1024;
/**
 * Once bwrap exited, every process that held the log connection is gone, so its end of file is
 * only the agent reading what is buffered away. Should it never come (the connection was dropped
 * as unnamed above), the launch ends anyway after this long instead of hanging the build.
 */
const LOG_EOF_GRACE_MS = 30_000;

export class Launcher {
  private helper: ChildProcess | undefined;
  private server: Server | undefined;
  private readonly socketName = `\0farm-launcher-${process.pid}-${randomBytes(8).toString('hex')}`;
  private readonly inFlight = new Map<string, InFlight>();
  private listening: Promise<void> | undefined;
  /** Log connections that have not sent their header yet. */
  private unnamed = 0;

  async launch(options: LaunchOptions): Promise<Launched> {
    await this.listen();
    const helper = this.ensureHelper();
    const token = randomBytes(16).toString('hex');
    let resolvePid!: InFlight['resolvePid'];
    let resolveClosed!: InFlight['resolveClosed'];
    const pid = new Promise<number | undefined>((r) => (resolvePid = r));
    const closed = new Promise<{ code: number | null; signal: string | null; error?: string }>((r) => (resolveClosed = r));
    this.inFlight.set(token, { options, logEnded: false, noLog: false, resolvePid, resolveClosed });
    this.setRef(true);
    const request: LaunchRequest = { type: 'launch', token, file: options.file, args: options.args, fd4: options.fd4, logSocket: this.socketName };
    helper.send(request);
    return { pid, closed };
  }

  /** The log server's abstract socket name (NUL first). */
  get logSocket(): string {
    return this.socketName;
  }

  /** The launcher process's pid, while it runs. */
  get processId(): number | undefined {
    return this.helper?.pid;
  }

  /** Stops the launcher (its sandboxes die with it) and the log server. */
  close(): void {
    if (this.helper !== undefined) killGroup(this.helper);
    this.server?.close();
    this.server = undefined;
    this.listening = undefined;
  }

  private listen(): Promise<void> {
    this.listening ??= new Promise<void>((resolve, reject) => {
      const server = createServer((socket) => this.accept(socket));
      server.once('error', reject);
      server.listen(this.socketName, () => {
        server.off('error', reject);
        this.server = server;
        if (this.inFlight.size === 0) server.unref();
        resolve();
      });
    });
    return this.listening;
  }

  private ensureHelper(): ChildProcess {
    if (this.helper !== undefined && this.helper.exitCode === null && this.helper.signalCode === null && this.helper.connected) return this.helper;
    // Its own process group: when it dies, whatever it started that is still in the group is
    // killed with it — a bwrap caught half-way through its namespace setup (its inner process
    // waits forever for the outer one) has not yet left the group, nor armed --die-with-parent.
    const helper = spawn(process.execPath, [...HELPER_FLAGS, HELPER], { stdio: ['ignore', 'inherit', 'inherit', 'ipc'], serialization: 'json', detached: true });
    helper.on('message', (event: LauncherEvent) => this.onEvent(event));
    helper.once('exit', (code, signal) => {
      killGroup(helper);
      if (this.helper === helper) this.helper = undefined;
      const why = `the sandbox launcher process exited (${signal ?? `code ${code}`})`;
      for (const [token, f] of this.inFlight) {
        f.resolvePid(undefined);
        this.finish(token, f, { code: null, signal: null, error: why }, true);
      }
    });
    // An IPC write error shows up as an exit too; without a listener it would be thrown.
    helper.on('error', () => undefined);
    this.helper = helper;
    return helper;
  }

  private onEvent(event: LauncherEvent): void {
    const f = this.inFlight.get(event.token);
    if (f === undefined) return;
    switch (event.type) {
      case 'spawned':
        f.resolvePid(event.pid);
        return;
      case 'status':
        f.options.onStatus(event.text);
        return;
      case 'exit':
        this.finish(event.token, f, { code: event.code, signal: event.signal }, false);
        return;
      case 'failed':
        f.resolvePid(undefined);
        this.finish(event.token, f, { code: null, signal: null, error: event.message }, !event.logConnected);
        return;
    }
  }

  private finish(token: string, f: InFlight, exit: NonNullable<InFlight['exit']>, noLog: boolean): void {
    f.exit ??= exit;
    if (noLog) f.noLog = true;
    this.settle(token, f);
    if (this.inFlight.has(token) && f.grace === undefined) {
      f.grace = setTimeout(() => {
        f.noLog = true;
        this.settle(token, f);
      }, LOG_EOF_GRACE_MS);
    }
  }

  private settle(token: string, f: InFlight): void {
    if (f.exit === undefined || !(f.logEnded || f.noLog)) return;
    if (f.grace !== undefined) clearTimeout(f.grace);
    this.inFlight.delete(token);
    if (this.inFlight.size === 0) this.setRef(false);
    f.resolveClosed(f.exit);
  }

  /** A log connection: its header names the launch, the rest is the build's output. */
  private accept(socket: Socket): void {
    if (this.unnamed >= MAX_UNNAMED_CONNECTIONS) {
      socket.destroy();
      return;
    }
    this.unnamed++;
    let named = false;
    const name = () => {
      if (!named) this.unnamed--;
      named = true;
    };
    socket.once('close', name);
    let header = Buffer.alloc(0);
    let f: InFlight | undefined;
    let token: string | undefined;
    const timer = setTimeout(() => socket.destroy(), HEADER_TIMEOUT_MS);
    timer.unref();
    socket.on('data', (data: Buffer) => {
      if (f !== undefined) {
        f.options.onLog(data);
        return;
      }
      header = Buffer.concat([header, data]);
      if (header.length < LOG_HEADER_BYTES) return;
      clearTimeout(timer);
      name();
      token = header.subarray(0, LOG_HEADER_BYTES - 1).toString('latin1');
      f = this.inFlight.get(token);
      if (f === undefined || header[LOG_HEADER_BYTES - 1] !== 0x0a) {
        socket.destroy();
        return;
      }
      const rest = header.subarray(LOG_HEADER_BYTES);
      if (rest.length > 0) f.options.onLog(rest);
    });
    const ended = () => {
      clearTimeout(timer);
      if (f === undefined || token === undefined || f.logEnded) return;
      f.logEnded = true;
      this.settle(token, f);
    };
    socket.on('end', ended);
    socket.on('close', ended);
    socket.on('error', () => undefined);
  }

  private setRef(on: boolean): void {
    const helper = this.helper;
    if (on) {
      helper?.ref();
      helper?.channel?.ref();
      this.server?.ref();
    } else {
      helper?.unref();
      helper?.channel?.unref();
      this.server?.unref();
    }
  }
}

let shared: Launcher | undefined;

/** The process's launcher, created on first use. */
export function sharedLauncher(): Launcher {
  shared ??= new Launcher();
  return shared;
}

/** SIGKILL to the launcher's whole process group (itself, and any bwrap still setting up). */
function killGroup(helper: ChildProcess): void {
  if (helper.pid === undefined) return;
  try {
    process.kill(-helper.pid, 'SIGKILL');
  } catch {
    // ESRCH: the group is gone already.
  }
}
