/**
 * Where a remote session's time goes, from the event log of the byte-timing relay
 * (door-relay.ts). Pure: text in, numbers out.
 *
 * Nix's build hook speaks strictly request → reply on both protocols (it writes a command,
 * flushes, reads the whole reply, then writes the next), so a burst of client bytes that follows
 * server bytes starts a new command, whose code is the burst's first u64, and the command lasts
 * until the last server byte before the next burst (or the client's EOF). A burst whose first
 * u64 is no known command code is counted with the command before it.
 */

export type DoorProtocol = 'serve' | 'worker';
export type DoorPhase = 'handshake' | 'query' | 'copyIn' | 'build' | 'copyOut' | 'other';

const SERVE_MAGIC = 0x390c9deb;
const WORKER_MAGIC = 0x6e697863;

/** spec §6.3 (serve) and §7.5 (worker): command code → name and phase. */
const SERVE_OPS: ReadonlyMap<number, readonly [string, DoorPhase]> = new Map([
  [1, ['QueryValidPaths', 'query']],
  [2, ['QueryPathInfos', 'copyOut']],
  [3, ['DumpStorePath', 'copyOut']],
  [4, ['ImportPaths', 'copyIn']],
  [5, ['ExportPaths', 'copyOut']],
  [6, ['BuildPaths', 'build']],
  [7, ['QueryClosure', 'query']],
  [8, ['BuildDerivation', 'build']],
  [9, ['AddToStoreNar', 'copyIn']],
]);
const WORKER_OPS: ReadonlyMap<number, readonly [string, DoorPhase]> = new Map([
  [1, ['IsValidPath', 'query']],
  [9, ['BuildPaths', 'build']],
  [26, ['QueryPathInfo', 'copyOut']],
  [31, ['QueryValidPaths', 'query']],
  [36, ['BuildDerivation', 'build']],
  [38, ['NarFromPath', 'copyOut']],
  [39, ['AddToStoreNar', 'copyIn']],
  [44, ['AddMultipleToStore', 'copyIn']],
  [46, ['BuildPathsWithResults', 'build']],
]);

export interface ProfiledCommand {
  readonly name: string;
  readonly phase: DoorPhase;
  /** First client byte of the request. */
  readonly startMs: number;
  /** Last server byte of the reply (the request's last byte if the server sent nothing). */
  readonly endMs: number;
  /** The derivation of a BuildDerivation. */
  readonly drvPath?: string;
}

export interface ProfiledSession {
  readonly pid: string;
  readonly protocol: DoorProtocol;
  /** When the relay process started, and when it had started the real remote program. */
  readonly relayStartMs: number;
  readonly spawnedMs: number;
  /** End of the handshake's reply: the build hook accepts the derivation right after it. */
  readonly handshakeEndMs: number;
  /** The client's EOF (else the last event seen). */
  readonly endMs: number;
  readonly commands: readonly ProfiledCommand[];
}

interface OpenCommand {
  op: number;
  startMs: number;
  lastClientMs: number;
  lastServerMs: number | undefined;
  drvPath: string | undefined;
}

/** Parses the relay's log (many sessions, lines of one session in order) into sessions. */
export function parseRelayLog(text: string): ProfiledSession[] {
  const byPid = new Map<string, string[][]>();
  for (const line of text.split('\n')) {
    const f = line.split(' ');
    if (f.length < 3) continue;
    const list = byPid.get(f[0]!) ?? [];
    list.push(f);
    byPid.set(f[0]!, list);
  }
  const sessions: ProfiledSession[] = [];
  for (const [pid, events] of byPid) {
    const s = parseSession(pid, events);
    if (s !== undefined) sessions.push(s);
  }
  return sessions.sort((a, b) => a.relayStartMs - b.relayStartMs);
}

function parseSession(pid: string, events: readonly string[][]): ProfiledSession | undefined {
  let protocol: DoorProtocol = 'serve';
  let relayStartMs: number | undefined;
  let spawnedMs: number | undefined;
  let endMs: number | undefined;
  let lastMs = 0;
  const raw: OpenCommand[] = [];
  let open: OpenCommand | undefined;
  const close = (): void => {
    if (open !== undefined) raw.push(open);
    open = undefined;
  };
  for (const [, event, time, a, b, c] of events) {
    const t = Number(time);
    lastMs = Math.max(lastMs, t);
    switch (event) {
      case 'start':
        relayStartMs = t;
        protocol = (a ?? '').split(',').includes('--stdio') ? 'worker' : 'serve';
        break;
      case 'spawned':
        spawnedMs = t;
        break;
      case 'c':
        if (open === undefined || open.lastServerMs !== undefined) {
          close();
          open = { op: b === undefined || b === '-' ? -1 : Number(b), startMs: t, lastClientMs: t, lastServerMs: undefined, drvPath: c };
        } else open.lastClientMs = t;
        break;
      case 's':
      case 'e':
        if (open !== undefined) open.lastServerMs = t;
        break;
      case 'ceof':
        close();
        endMs = t;
        break;
      default:
        break;
    }
  }
  close();
  if (relayStartMs === undefined || spawnedMs === undefined || raw.length === 0) return undefined;
  const commands = nameCommands(protocol, raw);
  const handshake = commands.filter((c) => c.phase === 'handshake').at(-1);
  return { pid, protocol, relayStartMs, spawnedMs, handshakeEndMs: handshake?.endMs ?? spawnedMs, endMs: endMs ?? lastMs, commands };
}

function nameCommands(protocol: DoorProtocol, raw: readonly OpenCommand[]): ProfiledCommand[] {
  const ops = protocol === 'serve' ? SERVE_OPS : WORKER_OPS;
  const out: ProfiledCommand[] = [];
  raw.forEach((r, i) => {
    const endMs = r.lastServerMs ?? r.lastClientMs;
    // The worker handshake is two round trips: magic, then the client's version and flags.
    const handshake = (i === 0 && (r.op === SERVE_MAGIC || r.op === WORKER_MAGIC)) || (i === 1 && protocol === 'worker' && raw[0]?.op === WORKER_MAGIC);
    const known = handshake ? (['handshake', 'handshake'] as const) : ops.get(r.op);
    const prev = out.at(-1);
    if (known === undefined && prev !== undefined) {
      out[out.length - 1] = { ...prev, endMs };
      return;
    }
    const [name, phase] = known ?? ['unknown', 'other' as DoorPhase];
    out.push({ name, phase, startMs: r.startMs, endMs, ...(phase === 'build' && r.drvPath !== undefined ? { drvPath: r.drvPath } : {}) });
  });
  return out;
}

/** Time of one session spent in each phase, and waiting for the client between commands. */
export interface SessionPhases {
  /** Remote program started → end of the handshake's reply (its start-up and the handshake). */
  readonly startupMs: number;
  readonly queryMs: number;
  readonly copyInMs: number;
  readonly buildMs: number;
  readonly copyOutMs: number;
  readonly otherMs: number;
  /** The rest of the session: the remote waits for the client (hook and worker at work, locks). */
  readonly clientWaitMs: number;
  /** Remote program started → the client's EOF. */
  readonly sessionMs: number;
}

export function sessionPhases(s: ProfiledSession): SessionPhases {
  const sum = (phase: DoorPhase): number => s.commands.filter((c) => c.phase === phase).reduce((acc, c) => acc + (c.endMs - c.startMs), 0);
  const startupMs = s.handshakeEndMs - s.spawnedMs;
  const sessionMs = s.endMs - s.spawnedMs;
  const queryMs = sum('query');
  const copyInMs = sum('copyIn');
  const buildMs = sum('build');
  const copyOutMs = sum('copyOut');
  const otherMs = sum('other');
  return { startupMs, queryMs, copyInMs, buildMs, copyOutMs, otherMs, clientWaitMs: Math.max(0, sessionMs - startupMs - queryMs - copyInMs - buildMs - copyOutMs - otherMs), sessionMs };
}

export interface Stat {
  readonly totalMs: number;
  readonly medianMs: number;
}

export interface DoorProfile {
  readonly sessions: number;
  readonly session: Stat;
  readonly startup: Stat;
  readonly query: Stat;
  readonly copyIn: Stat;
  readonly build: Stat;
  readonly copyOut: Stat;
  readonly clientWait: Stat;
  /** The relay's own start-up (its process start → the real program started); not in the unprofiled runs. */
  readonly relayOverhead: Stat;
  /**
   * The client's own time on the serial path: from one session's handshake end (the hook says
   * "accept") to the start of the next session's relay. Nix 2.8's worker waits for the hook's
   * answer, and the hook connects before it answers, so a derivation's offload starts only after
   * the previous one's connection is made: per derivation, the serial path is this gap plus the
   * remote program's start-up (plus the relay's, when profiling).
   */
  readonly clientGap: Stat;
  /** Interval between the starts of consecutive sessions. */
  readonly startInterval: Stat;
}

export function median(xs: readonly number[]): number {
  if (xs.length === 0) return Number.NaN;
  const s = [...xs].sort((a, b) => a - b);
  const m = Math.floor(s.length / 2);
  return s.length % 2 === 1 ? s[m]! : (s[m - 1]! + s[m]!) / 2;
}

export function stat(xs: readonly number[]): Stat {
  return { totalMs: xs.reduce((a, b) => a + b, 0), medianMs: median(xs) };
}

export function profileSessions(sessions: readonly ProfiledSession[]): DoorProfile {
  const phases = sessions.map(sessionPhases);
  const pick = (k: keyof SessionPhases): Stat => stat(phases.map((p) => p[k]));
  const gaps: number[] = [];
  const intervals: number[] = [];
  for (let i = 1; i < sessions.length; i++) {
    const prev = sessions[i - 1]!;
    const cur = sessions[i]!;
    intervals.push(cur.relayStartMs - prev.relayStartMs);
    gaps.push(Math.max(0, cur.relayStartMs - prev.handshakeEndMs));
  }
  return {
    sessions: sessions.length,
    session: pick('sessionMs'),
    startup: pick('startupMs'),
    query: pick('queryMs'),
    copyIn: pick('copyInMs'),
    build: pick('buildMs'),
    copyOut: pick('copyOutMs'),
    clientWait: pick('clientWaitMs'),
    relayOverhead: stat(sessions.map((s) => s.spawnedMs - s.relayStartMs)),
    clientGap: stat(gaps),
    startInterval: stat(intervals),
  };
}

/** BuildDerivation commands by derivation: when the request arrived and its reply ended. */
export function buildCommands(sessions: readonly ProfiledSession[]): Map<string, ProfiledCommand> {
  const out = new Map<string, ProfiledCommand>();
  for (const s of sessions) for (const c of s.commands) if (c.drvPath !== undefined) out.set(c.drvPath, c);
  return out;
}
