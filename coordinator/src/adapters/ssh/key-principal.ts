/**
 * Who an authorized key is, and what it may do: the key line's own `farm-*` options, then the farm
 * config's per-key settings (`keys`, by fingerprint — the most specific — then by name), then the
 * farm's defaults (undefined). The name is `farm-name`, else the key's comment, else its
 * fingerprint, so every principal in the logs can be traced back to one line.
 */
import type { DoorPrincipal } from '../nix-door/session-api.js';
import type { AuthorizedKey } from './authorized-keys.js';

export interface KeySettings {
  readonly systems?: readonly string[];
  readonly maxBuilds?: number;
}

export interface KeyGrant {
  readonly principal: DoorPrincipal;
  readonly fingerprint: string;
  /** `command="…"` from the key line: replaces the client's command. */
  readonly forcedCommand: string | undefined;
  /** `restrict` / `no-pty`: pty requests are refused (the door needs none anyway). */
  readonly allowPty: boolean;
}

export function grantFor(key: AuthorizedKey, settings: Readonly<Record<string, KeySettings>> = {}): KeyGrant {
  const o = key.options;
  const name = o.farmName ?? key.comment ?? key.fingerprint;
  // Object.hasOwn: a key named 'constructor' or '__proto__' must not pick up Object's members.
  const lookup = (k: string | undefined): KeySettings | undefined => (k !== undefined && Object.hasOwn(settings, k) ? settings[k] : undefined);
  const candidates = [lookup(key.fingerprint), lookup(o.farmName), lookup(key.comment)];
  const systems = o.farmSystems ?? candidates.find((s) => s?.systems !== undefined)?.systems;
  const maxBuilds = o.farmMaxBuilds ?? candidates.find((s) => s?.maxBuilds !== undefined)?.maxBuilds;
  return {
    principal: { name, systems, maxBuilds },
    fingerprint: key.fingerprint,
    forcedCommand: o.command,
    allowPty: !(o.restrict || o.noPty),
  };
}
