/**
 * Reads a daemon's JSON config file. The result is untyped input for the daemon's own
 * compile step (which fills defaults and names unknown keys); this only turns a missing or
 * malformed file into a clear INVALID_CONFIG error naming the file and the position.
 */
import { readFileSync } from 'node:fs';
import { FarmError } from '@farm/common';

export function readJsonConfig(file: string): Record<string, unknown> {
  let text: string;
  try {
    text = readFileSync(file, 'utf8');
  } catch (e) {
    throw new FarmError('INVALID_CONFIG', `cannot read config file ${file}: ${(e as NodeJS.ErrnoException).code ?? (e as Error).message}`, { source: file });
  }
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch (e) {
    throw new FarmError('INVALID_CONFIG', `config file ${file} is not valid JSON: ${(e as Error).message}`, { source: file });
  }
  if (value === null || typeof value !== 'object' || Array.isArray(value)) {
    throw new FarmError('INVALID_CONFIG', `config file ${file} must hold a JSON object`, { source: file });
  }
  return value as Record<string, unknown>;
}

/** Applies command-line overrides (only the flags that were given) on top of the file's values. */
export function withOverrides(base: Record<string, unknown>, overrides: Record<string, unknown | undefined>): Record<string, unknown> {
  const out = { ...base };
  for (const [k, v] of Object.entries(overrides)) if (v !== undefined) out[k] = v;
  return out;
}
