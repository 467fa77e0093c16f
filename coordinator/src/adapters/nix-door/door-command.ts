/**
 * Which protocol an SSH `exec` asks for. Nix runs `<remote-program> --serve --write` for
 * `ssh://` and `<remote-program> --stdio` for `ssh-ng://` (spec §6.1, §7.1), where
 * remote-program defaults to `nix-store` / `nix-daemon` and may be a full path; `farm nix-stdio`
 * is accepted too so that one `remote-program=` works both through an sshd and at this door.
 * Nix ≥ 2.20 may put `--` before the words; a `--store` other than the default is refused,
 * since the farm has one store.
 */
import type { NixSessionMode } from './session-api.js';

export type DoorCommand = { readonly mode: NixSessionMode } | { readonly error: string };

const SERVE_PROGRAMS = new Set(['nix-store']);
const WORKER_PROGRAMS = new Set(['nix-daemon']);

/** Splits like a POSIX shell for the simple words Nix sends: spaces, single and double quotes. */
export function splitCommandWords(command: string): string[] | undefined {
  const words: string[] = [];
  let current: string | undefined;
  let quote: "'" | '"' | undefined;
  for (let i = 0; i < command.length; i++) {
    const c = command[i]!;
    if (quote !== undefined) {
      if (c === quote) quote = undefined;
      else if (c === '\\' && quote === '"' && i + 1 < command.length) current = (current ?? '') + command[++i]!;
      else current = (current ?? '') + c;
    } else if (c === "'" || c === '"') {
      quote = c;
      current ??= '';
    } else if (c === '\\' && i + 1 < command.length) {
      current = (current ?? '') + command[++i]!;
    } else if (c === ' ' || c === '\t' || c === '\n') {
      if (current !== undefined) words.push(current);
      current = undefined;
    } else {
      current = (current ?? '') + c;
    }
  }
  if (quote !== undefined) return undefined;
  if (current !== undefined) words.push(current);
  return words;
}

function baseName(program: string): string {
  return program.slice(program.lastIndexOf('/') + 1);
}

const USAGE = "this is a farm's Nix door: it runs only 'nix-store --serve [--write]' (ssh://) and 'nix-daemon --stdio' (ssh-ng://)";

export function parseDoorCommand(command: string): DoorCommand {
  const words = splitCommandWords(command.trim());
  if (words === undefined) return { error: `unbalanced quotes in the command '${command}'` };
  if (words.length === 0) return { error: USAGE };
  let program = baseName(words[0]!);
  let args = words.slice(1);
  if (program === 'farm' && args[0] === 'nix-stdio') {
    program = 'farm nix-stdio';
    args = args.slice(1);
  } else if (program === 'farm-nix-stdio') {
    program = 'farm nix-stdio';
  }
  if (args[0] === '--') args = args.slice(1);
  const flags = new Set<string>();
  for (let i = 0; i < args.length; i++) {
    const a = args[i]!;
    if (a === '--store') {
      const store = args[++i];
      if (store === undefined) return { error: "'--store' needs a value" };
      if (store !== 'auto' && store !== '/nix/store' && store !== 'daemon' && store !== 'local') {
        return { error: `this farm has one store; '--store ${store}' is not supported` };
      }
    } else flags.add(a);
  }
  const only = (...allowed: string[]) => [...flags].every((f) => allowed.includes(f));
  const isServe = SERVE_PROGRAMS.has(program) || program === 'farm nix-stdio';
  const isWorker = WORKER_PROGRAMS.has(program) || program === 'farm nix-stdio';
  if (isServe && flags.has('--serve') && only('--serve', '--write')) return { mode: flags.has('--write') ? 'serve-write' : 'serve' };
  if (isWorker && flags.has('--stdio') && only('--stdio')) return { mode: 'worker' };
  return { error: `unknown command '${command}': ${USAGE}` };
}
