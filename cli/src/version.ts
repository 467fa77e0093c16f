import { readFileSync } from 'node:fs';

/** The farm version, read from cli/package.json so there is one place to bump it. */
export const FARM_VERSION: string = (
  JSON.parse(readFileSync(new URL('../../package.json', import.meta.url), 'utf8')) as { version: string }
).version;
