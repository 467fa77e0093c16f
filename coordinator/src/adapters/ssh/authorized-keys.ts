/**
 * OpenSSH's authorized_keys format, parsed without I/O: `[options] keytype base64 [comment]` per
 * line, blank lines and `#` comments skipped. A line that cannot be used (unknown option,
 * malformed value, unsupported key type, bad base64) is skipped with a warning naming its line,
 * like sshd: one typo must not lock everybody else out, and must not grant more than it says.
 */
import { createHash } from 'node:crypto';
import ssh2 from 'ssh2';
import type { ParsedKey } from 'ssh2';
import { NO_KEY_OPTIONS, parseKeyOptions, type KeyOptions } from './key-options.js';

export interface AuthorizedKey {
  /** 1-based line in the file, for logs. */
  readonly line: number;
  readonly keyType: string;
  /** The public key blob, exactly what a client sends in its publickey request. */
  readonly blob: Buffer;
  /** For verifying the client's signature. */
  readonly key: ParsedKey;
  /** `SHA256:…` as `ssh-keygen -l` prints it. */
  readonly fingerprint: string;
  readonly comment: string | undefined;
  readonly options: KeyOptions;
}

export interface AuthorizedKeysWarning {
  readonly line: number;
  readonly message: string;
}

export interface AuthorizedKeys {
  readonly keys: readonly AuthorizedKey[];
  readonly warnings: readonly AuthorizedKeysWarning[];
}

/** The key types ssh2 verifies. Certificates, security keys (sk-*) and DSA are not offered. */
const SUPPORTED_TYPES = new Set(['ssh-ed25519', 'ssh-rsa', 'ecdsa-sha2-nistp256', 'ecdsa-sha2-nistp384', 'ecdsa-sha2-nistp521']);
/** What looks like a key type rather than an options field (sshd decides by trying to parse a key). */
const KEY_TYPE_LIKE = /^(ssh-|ecdsa-|sk-)[A-Za-z0-9@._-]+$/;
const BASE64 = /^[A-Za-z0-9+/]+={0,2}$/;

export function sshFingerprint(blob: Buffer): string {
  return `SHA256:${createHash('sha256').update(blob).digest('base64').replace(/=+$/, '')}`;
}

/** Length of the options field at the start of `line`: up to the first whitespace outside quotes. */
function optionsFieldEnd(line: string): number {
  let quoted = false;
  for (let i = 0; i < line.length; i++) {
    const c = line[i]!;
    if (quoted && c === '\\' && line[i + 1] === '"') i++;
    else if (c === '"') quoted = !quoted;
    else if (!quoted && (c === ' ' || c === '\t')) return i;
  }
  return line.length;
}

/** The type string a key blob starts with (uint32 length, then the name). */
function blobType(blob: Buffer): string | undefined {
  if (blob.length < 4) return undefined;
  const n = blob.readUInt32BE(0);
  if (n === 0 || n > 64 || 4 + n > blob.length) return undefined;
  return blob.subarray(4, 4 + n).toString('latin1');
}

type LineResult = { readonly key: AuthorizedKey } | { readonly error: string } | undefined;

export function parseAuthorizedKeyLine(text: string, lineNumber: number): LineResult {
  let rest = text.trim();
  if (rest === '' || rest.startsWith('#')) return undefined;
  let options = NO_KEY_OPTIONS;
  const firstEnd = optionsFieldEnd(rest);
  if (!KEY_TYPE_LIKE.test(rest.slice(0, firstEnd))) {
    const parsed = parseKeyOptions(rest.slice(0, firstEnd));
    if ('error' in parsed) return { error: parsed.error };
    options = parsed.options;
    rest = rest.slice(firstEnd).trimStart();
  }
  const [keyType = '', base64 = '', ...commentWords] = rest.split(/[ \t]+/);
  if (keyType === '') return { error: 'no key after the options' };
  if (!SUPPORTED_TYPES.has(keyType)) {
    return { error: KEY_TYPE_LIKE.test(keyType) ? `key type '${keyType}' is not supported` : `'${keyType}' is not a key type` };
  }
  if (base64 === '' || !BASE64.test(base64)) return { error: `the ${keyType} key is not valid base64` };
  const blob = Buffer.from(base64, 'base64');
  if (blobType(blob) !== keyType) return { error: `the key data is not a ${keyType} key` };
  const parsed = ssh2.utils.parseKey(`${keyType} ${base64}`);
  if (parsed instanceof Error) return { error: `the ${keyType} key cannot be read: ${parsed.message}` };
  const comment = commentWords.join(' ');
  return {
    key: {
      line: lineNumber,
      keyType,
      blob,
      key: parsed,
      fingerprint: sshFingerprint(blob),
      comment: comment === '' ? undefined : comment,
      options,
    },
  };
}

export function parseAuthorizedKeys(text: string): AuthorizedKeys {
  const keys: AuthorizedKey[] = [];
  const warnings: AuthorizedKeysWarning[] = [];
  text.split(/\r?\n/).forEach((line, i) => {
    const r = parseAuthorizedKeyLine(line, i + 1);
    if (r === undefined) return;
    if ('key' in r) keys.push(r.key);
    else warnings.push({ line: i + 1, message: r.error });
  });
  return { keys, warnings };
}
