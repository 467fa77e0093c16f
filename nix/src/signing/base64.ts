/**
 * Strict standard base64 (RFC 4648 §4, with padding) of a known byte length. Node's Buffer
 * decoder silently skips invalid characters, which would let a corrupt key or signature decode
 * to something plausible; this checks the alphabet, the padding and the decoded size first.
 */
import { NixFormatError, type NixErrorCode } from '../errors.js';

const BASE64_RE = /^(?:[A-Za-z0-9+/]{4})*(?:[A-Za-z0-9+/]{2}==|[A-Za-z0-9+/]{3}=)?$/;

export function decodeBase64Exact(s: string, size: number, code: NixErrorCode, what: string): Uint8Array {
  if (!BASE64_RE.test(s)) throw new NixFormatError(code, `${what} is not valid base64`);
  const bytes = new Uint8Array(Buffer.from(s, 'base64'));
  if (bytes.length !== size) throw new NixFormatError(code, `${what} decodes to ${bytes.length} bytes, expected ${size}`);
  return bytes;
}

export function encodeBase64(bytes: Uint8Array): string {
  return Buffer.from(bytes).toString('base64');
}
