/**
 * Config compilation (after Temporal's worker-options): user input → validated, defaults
 * filled, unknown keys rejected with a message that names them and where they are. Each
 * daemon declares a zod schema (strict objects) and calls compileConfig.
 */
import { z } from 'zod';
import { FarmError } from './errors.js';

export function compileConfig<S extends z.ZodType>(schema: S, input: unknown, source = 'config'): z.output<S> {
  const result = schema.safeParse(input);
  if (result.success) return result.data;
  const problems = result.error.issues.map((issue) => {
    const where = issue.path.length > 0 ? issue.path.join('.') : '(top level)';
    if (issue.code === 'unrecognized_keys') {
      const prefix = issue.path.length > 0 ? `${issue.path.join('.')}.` : '';
      return `unknown key${issue.keys.length > 1 ? 's' : ''} ${issue.keys.map((k) => `'${prefix}${k}'`).join(', ')}`;
    }
    return `${where}: ${issue.message}`;
  });
  throw new FarmError('INVALID_CONFIG', `invalid ${source}: ${problems.join('; ')}`, { source });
}

/** Durations in config are written like `15s`, `500ms`, `2m`, `1h`, or as milliseconds. */
export const durationMs = z.union([
  z.number().int().nonnegative(),
  z
    .string()
    .regex(/^\d+(ms|s|m|h)$/, 'expected a duration like 500ms, 15s, 2m or 1h')
    .transform((s) => {
      const n = Number.parseInt(s, 10);
      const unit = s.replace(/^\d+/, '');
      return n * ({ ms: 1, s: 1000, m: 60_000, h: 3_600_000 } as const)[unit as 'ms' | 's' | 'm' | 'h'];
    }),
], { error: 'expected a duration like 500ms, 15s, 2m or 1h, or a number of milliseconds' });
