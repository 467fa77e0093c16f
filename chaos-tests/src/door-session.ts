/**
 * One Nix door session as Nix's client runs it: `farm-nix-stdio --serve --write` (ssh://) or
 * `farm-nix-stdio --stdio` (ssh-ng://) as a child process that finds the farm through
 * FARM_STATE_DIR, the client's bytes on its stdin (then EOF, as Nix closes stdin at the end),
 * its stdout and stderr collected whole. A session that has not ended after `timeoutMs` is
 * killed and reported as hung, so a door that stops answering fails the test instead of
 * stalling it.
 */
import { spawn } from 'node:child_process';
import { join } from 'node:path';
import { REPO_ROOT } from '@farm/testkit';

export const NIX_STDIO_RELAY: string = join(REPO_ROOT, 'cli', 'bin', 'farm-nix-stdio');

export interface DoorSessionRun {
  readonly stdout: Uint8Array;
  readonly stderr: string;
  readonly code: number | null;
  readonly hung: boolean;
  readonly ms: number;
}

export function runDoorSession(protocol: 'serve' | 'worker', input: Uint8Array, env: NodeJS.ProcessEnv, timeoutMs: number): Promise<DoorSessionRun> {
  const args = protocol === 'serve' ? ['--serve', '--write'] : ['--stdio'];
  const started = Date.now();
  return new Promise((resolve, reject) => {
    const child = spawn(NIX_STDIO_RELAY, args, { stdio: ['pipe', 'pipe', 'pipe'], env });
    const out: Buffer[] = [];
    let err = '';
    let hung = false;
    child.stdout.on('data', (d: Buffer) => out.push(d));
    child.stderr.on('data', (d: Buffer) => (err += d.toString()));
    // The door may end the session before reading everything (serve has no error channel).
    child.stdin.on('error', () => undefined);
    const timer = setTimeout(() => {
      hung = true;
      child.kill('SIGKILL');
    }, timeoutMs);
    child.once('error', (e) => {
      clearTimeout(timer);
      reject(e);
    });
    child.once('close', (code) => {
      clearTimeout(timer);
      resolve({ stdout: new Uint8Array(Buffer.concat(out)), stderr: err, code, hung, ms: Date.now() - started });
    });
    child.stdin.end(Buffer.from(input));
  });
}
