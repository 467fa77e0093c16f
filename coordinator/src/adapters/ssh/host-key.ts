/**
 * The gateway's host key: read from its file, or created there (ed25519, mode 0600) on the first
 * start, so that clients' known_hosts entries stay valid across restarts. Creation uses an
 * exclusive open: two coordinators starting at once cannot each write a different key.
 */
import { mkdir, readFile, stat, writeFile } from 'node:fs/promises';
import { dirname } from 'node:path';
import ssh2 from 'ssh2';
import type { ParsedKey } from 'ssh2';
import { FarmError, type Logger } from '@farm/common';

export interface HostKey {
  /** The private key as read from the file (what ssh2's `hostKeys` takes). */
  readonly privateKey: Buffer;
  /** The public key as an OpenSSH line, `ssh-ed25519 AAAA… farm` (for known_hosts). */
  readonly publicLine: string;
}

/**
 * A new ed25519 key in OpenSSH format that ssh2 reads back. ssh2's generator writes about one key
 * in 250 malformed (a public key whose leading zero byte was dropped: 31 bytes, "Malformed OpenSSH
 * private key" when parsed), so each key is parsed before it is kept, and a bad one drawn again.
 */
export function generateHostKey(generate: () => string = () => ssh2.utils.generateKeyPairSync('ed25519', { comment: 'farm' }).private): string {
  for (let attempt = 0; attempt < 20; attempt++) {
    const candidate = generate();
    const parsed = onePrivateKey(ssh2.utils.parseKey(candidate) as ParsedKey | ParsedKey[] | Error);
    if (!(parsed instanceof Error) && parsed.isPrivateKey()) return candidate;
  }
  throw new Error('ssh2 made no readable ed25519 key in 20 attempts');
}

async function createIfMissing(path: string, logger: Logger): Promise<void> {
  await mkdir(dirname(path), { recursive: true });
  const privateKey = generateHostKey();
  try {
    await writeFile(path, privateKey, { mode: 0o600, flag: 'wx' });
    logger.info({ file: path }, 'created the SSH host key');
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code !== 'EEXIST') throw e;
  }
}

function onePrivateKey(parsed: ParsedKey | ParsedKey[] | Error): ParsedKey | Error {
  // parseKey returns an array for OpenSSH files that hold several keys; the first one serves.
  const key = Array.isArray(parsed) ? parsed[0] : parsed;
  return key ?? new Error('the file holds no key');
}

export async function loadOrCreateHostKey(path: string, logger: Logger): Promise<HostKey> {
  let privateKey: Buffer;
  try {
    privateKey = await readFile(path);
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code !== 'ENOENT') {
      throw new FarmError('UNAVAILABLE', `cannot read the SSH host key ${path}: ${(e as Error).message}`, {}, { cause: e });
    }
    try {
      await createIfMissing(path, logger);
      privateKey = await readFile(path);
    } catch (e2) {
      throw new FarmError('UNAVAILABLE', `cannot create the SSH host key ${path}: ${(e2 as Error).message}`, {}, { cause: e2 });
    }
  }
  const key = onePrivateKey(ssh2.utils.parseKey(privateKey) as ParsedKey | ParsedKey[] | Error);
  if (key instanceof Error || !key.isPrivateKey()) {
    const why = key instanceof Error ? key.message : 'it is a public key';
    throw new FarmError('INVALID_CONFIG', `the SSH host key ${path} is not an unencrypted OpenSSH private key (${why})`);
  }
  const mode = (await stat(path)).mode;
  if ((mode & 0o077) !== 0) {
    logger.warn({ file: path, mode: (mode & 0o777).toString(8) }, `the SSH host key ${path} is readable by others; it should be mode 0600`);
  }
  return { privateKey, publicLine: `${key.type} ${key.getPublicSSH().toString('base64')} farm` };
}
