/**
 * Durations on the command line: `90s`, `10m`, `1h30m`, `500ms`, or a bare number of seconds
 * (what Nix's own `--timeout` and `--max-silent-time` take). `0` means "no limit of my own"
 * (the farm's default applies).
 */
import { FarmError } from '@farm/common';

const UNIT_MS = { ms: 1, s: 1000, m: 60_000, h: 3_600_000, d: 86_400_000 } as const;

export function parseDuration(text: string, option = 'duration'): number {
  const s = text.trim();
  if (/^\d+$/.test(s)) return checked(Number.parseInt(s, 10) * 1000, text, option);
  const parts = [...s.matchAll(/(\d+)(ms|s|m|h|d)/g)];
  if (s === '' || parts.map((p) => p[0]).join('') !== s) {
    throw new FarmError('INVALID_ARGUMENT', `${option}: '${text}' is not a duration (examples: 30s, 10m, 1h30m, or seconds)`, { option });
  }
  let ms = 0;
  for (const [, n, unit] of parts) ms += Number.parseInt(n!, 10) * UNIT_MS[unit as keyof typeof UNIT_MS];
  return checked(ms, text, option);
}

function checked(ms: number, text: string, option: string): number {
  if (!Number.isSafeInteger(ms)) throw new FarmError('INVALID_ARGUMENT', `${option}: '${text}' is too long`, { option });
  return ms;
}

/** 0:07, 1:02:03 — elapsed times in the progress view. */
export function formatElapsed(ms: number): string {
  const total = Math.max(0, Math.floor(ms / 1000));
  const h = Math.floor(total / 3600);
  const m = Math.floor((total % 3600) / 60);
  const sec = total % 60;
  const mm = h > 0 ? String(m).padStart(2, '0') : String(m);
  return `${h > 0 ? `${h}:` : ''}${mm}:${String(sec).padStart(2, '0')}`;
}

/** 3s, 4m, 2h, 5d — ages such as "last heartbeat 3s ago". */
export function formatAge(ms: number): string {
  const s = Math.max(0, Math.round(ms / 1000));
  if (s < 120) return `${s}s`;
  if (s < 7200) return `${Math.round(s / 60)}m`;
  if (s < 172_800) return `${Math.round(s / 3600)}h`;
  return `${Math.round(s / 86_400)}d`;
}

/** 1.5 MiB — byte counts in upload progress. */
export function formatBytes(n: number): string {
  if (n < 1024) return `${n} B`;
  const units = ['KiB', 'MiB', 'GiB', 'TiB'];
  let v = n / 1024;
  let i = 0;
  while (v >= 1024 && i < units.length - 1) {
    v /= 1024;
    i++;
  }
  return `${v < 10 ? v.toFixed(1) : Math.round(v)} ${units[i]}`;
}
