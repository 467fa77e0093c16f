/**
 * `farm cache key`, run: ask the coordinator (GetDoorInfo) for its binary cache and print what a
 * Nix client needs to use it — the public key line for `trusted-public-keys` first (alone with
 * --quiet, so scripts can take it as is), then the cache URL and a nix.conf snippet; or both as
 * one JSON object. A farm that serves no cache is an error that says how to get one.
 * Loaded by commands/cache-key.ts when the command runs.
 */
import type { Writable } from 'node:stream';
import { FarmError } from '@farm/common';
import type { FarmClient } from './coordinator-client.js';

export interface CacheKeyAnswer {
  readonly publicKey: string;
  readonly cacheUrl: string;
}

export async function showCacheKey(client: FarmClient, options: { json: boolean; quiet: boolean; stdout: Writable }): Promise<number> {
  const info = await client.getDoorInfo();
  if (info.cacheUrl === '' || info.cachePublicKey === '') {
    throw new FarmError('FAILED_PRECONDITION', `the farm coordinator at ${client.target.address} serves no binary cache (set cache.listen in the coordinator's config; farm up starts one unless --cache-listen off)`);
  }
  const answer: CacheKeyAnswer = { publicKey: info.cachePublicKey, cacheUrl: info.cacheUrl };
  if (options.json) options.stdout.write(`${JSON.stringify(answer)}\n`);
  else options.stdout.write(renderCacheKey(answer, options.quiet));
  return 0;
}

export function renderCacheKey(a: CacheKeyAnswer, quiet: boolean): string {
  if (quiet) return `${a.publicKey}\n`;
  return [
    a.publicKey,
    '',
    `binary cache: ${a.cacheUrl}`,
    '',
    '# nix.conf (/etc/nix/nix.conf; with a nix-daemon, a user may add a substituter only if it is',
    '# also listed in trusted-substituters):',
    `extra-substituters = ${a.cacheUrl}`,
    `extra-trusted-public-keys = ${a.publicKey}`,
    '',
  ].join('\n');
}
