/**
 * The launcher process: starts bwrap for the agent (see launcher-protocol.ts for why it exists).
 * It imports nothing but Node built-ins and stays small, because a fork's cost grows with the
 * forking process's memory. It exits when the agent goes away (its IPC channel closes), and the
 * sandboxes it started die with it (bwrap --die-with-parent).
 */
import { spawn } from 'node:child_process';
import { connect } from 'node:net';
import type { Writable } from 'node:stream';
import type { LaunchRequest, LauncherEvent } from './launcher-protocol.js';

const send = (event: LauncherEvent) => process.send?.(event);

process.on('disconnect', () => process.exit(0));
process.on('message', (message: LaunchRequest) => {
  if (message?.type === 'launch') launch(message);
});

function launch(r: LaunchRequest): void {
  const log = connect(r.logSocket);
  let connected = false;
  log.once('error', (e) => {
    if (!connected) send({ type: 'failed', token: r.token, message: `cannot open the log connection: ${e.message}`, logConnected: false });
  });
  log.once('connect', () => {
    connected = true;
    // The header first, then the child: its output must follow the header on the connection.
    log.write(`${r.token}\n`, () => start(r, log));
  });
}

function start(r: LaunchRequest, log: ReturnType<typeof connect>): void {
  let child;
  try {
    child = spawn(r.file, [...r.args], { stdio: ['ignore', log, log, 'pipe', 'pipe'], env: {} });
  } catch (e) {
    send({ type: 'failed', token: r.token, message: (e as Error).message, logConnected: true });
    log.destroy();
    return;
  }
  // The child holds its own copies of the connection: ours would only keep the log open.
  log.destroy();
  if (child.pid === undefined) {
    child.once('error', (e) => send({ type: 'failed', token: r.token, message: e.message, logConnected: true }));
    return;
  }
  send({ type: 'spawned', token: r.token, pid: child.pid });
  const fd4 = child.stdio[4] as Writable;
  // A child that exits before reading it all closes the pipe: not our error to report.
  fd4.on('error', () => undefined);
  fd4.end(Buffer.from(r.fd4, 'utf8'));
  child.stdio[3]?.on('data', (d: Buffer) => send({ type: 'status', token: r.token, text: d.toString('utf8') }));
  child.once('close', (code, signal) => send({ type: 'exit', token: r.token, code, signal }));
}
