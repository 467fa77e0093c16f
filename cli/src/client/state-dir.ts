/**
 * Where `farm up` keeps its state (and address.json), from the environment alone. Its own tiny
 * module, importing only node:, because the `farm-nix-stdio` relay reads it on a start-up path
 * that must stay in the tens of milliseconds.
 */
import { homedir } from 'node:os';
import { join } from 'node:path';

export type Env = Readonly<Record<string, string | undefined>>;

export function defaultStateDir(env: Env = process.env): string {
  const explicit = env['FARM_STATE_DIR'];
  if (explicit !== undefined && explicit !== '') return explicit;
  const xdg = env['XDG_STATE_HOME'];
  if (xdg !== undefined && xdg !== '') return join(xdg, 'farm');
  const home = env['HOME'] !== undefined && env['HOME'] !== '' ? env['HOME'] : homedir();
  return join(home, '.local', 'state', 'farm');
}
