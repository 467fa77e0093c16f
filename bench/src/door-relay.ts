/**
 * The door benchmark's byte-timing relay: a remote-program that runs the real one as its child and
 * passes stdin, stdout and stderr through unchanged, appending one line per event to a log, so
 * that the profiled pass of `npm run bench:door` can tell where a remote session's time goes
 * (program start-up, each protocol command from its first byte to the last byte of its reply).
 *
 *   node door-relay.js <event log> <program> [args…]     (args: what Nix passes, e.g. --serve --write)
 *
 * Lines are `<pid> <event> <epoch ms> [bytes] [first u64 of a client chunk] [the store path that
 * follows it, if any: BuildDerivation's derivation]`; events: `start`
 * (this process was started), `ready` (this code runs), `spawned` (the real program was started),
 * `c`/`s`/`e` (a chunk from the client / the program's stdout / its stderr), `ceof` (the client's
 * EOF), `exit` (the program's exit status). Each line is written when it happens, not at exit:
 * Nix's build hook SIGKILLs its remote program (a parent-death signal) as soon as it is done.
 * Imports only node: modules, so that its own start-up (also logged) stays small.
 */
import { spawn } from 'node:child_process';
import { openSync, writeSync } from 'node:fs';

const [log, program, ...args] = process.argv.slice(2);
if (log === undefined || program === undefined) {
  process.stderr.write('usage: door-relay <event log> <program> [args…]\n');
  process.exit(2);
}
const fd = openSync(log, 'a');
const now = (): number => performance.timeOrigin + performance.now();
const note = (event: string, extra = ''): void => {
  writeSync(fd, `${process.pid} ${event} ${now().toFixed(3)}${extra}\n`);
};
writeSync(fd, `${process.pid} start ${performance.timeOrigin.toFixed(3)} ${args.join(',')}\n`);
note('ready');

const child = spawn(program, args, { stdio: ['pipe', 'pipe', 'pipe'] });
note('spawned');
child.on('error', (e) => {
  process.stderr.write(`door-relay: cannot start ${program}: ${e.message}\n`);
  process.exit(1);
});

/** The store path a chunk's first string names, if it looks like `u64 op, string path` (BuildDerivation). */
function pathArgument(chunk: Buffer): string {
  if (chunk.length < 27 || chunk.toString('latin1', 16, 27) !== '/nix/store/') return '';
  const len = Number(chunk.readBigUInt64LE(8));
  return len < 400 && chunk.length >= 16 + len ? ` ${chunk.toString('latin1', 16, 16 + len)}` : '';
}

process.stdin.on('data', (chunk: Buffer) => {
  // The first u64 of a chunk is the command code when the chunk starts a request.
  note('c', ` ${chunk.length} ${chunk.length >= 8 ? chunk.readBigUInt64LE(0).toString() : '-'}${pathArgument(chunk)}`);
  if (!child.stdin.write(chunk)) {
    process.stdin.pause();
    child.stdin.once('drain', () => process.stdin.resume());
  }
});
process.stdin.on('end', () => {
  note('ceof');
  child.stdin.end();
});
child.stdin.on('error', () => undefined); // the program may exit before reading everything

child.stdout.on('data', (chunk: Buffer) => {
  note('s', ` ${chunk.length}`);
  if (!process.stdout.write(chunk)) {
    child.stdout.pause();
    process.stdout.once('drain', () => child.stdout.resume());
  }
});
child.stderr.on('data', (chunk: Buffer) => {
  note('e', ` ${chunk.length}`);
  process.stderr.write(chunk);
});
process.stdout.on('error', () => undefined);

child.on('close', (code, signal) => {
  note('exit', ` ${code ?? -1} ${signal ?? '-'}`);
  process.stdout.write('', () => process.exit(code ?? 1));
});
