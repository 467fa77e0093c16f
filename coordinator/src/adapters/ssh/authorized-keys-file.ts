/**
 * The authorized_keys file as the gateway sees it: read again at every authentication, as sshd
 * does, so an edit takes effect for the next connection without a restart (no watcher to miss an
 * editor's rename-over). The file is small; it is only parsed again, and its warnings logged
 * again, when its text changed.
 */
import { readFile } from 'node:fs/promises';
import type { Logger } from '@farm/common';
import { parseAuthorizedKeys, type AuthorizedKey } from './authorized-keys.js';

export class AuthorizedKeysFile {
  private lastText: string | undefined;
  private lastProblem: string | undefined;
  private keys: readonly AuthorizedKey[] = [];

  constructor(
    readonly path: string,
    private readonly logger: Logger,
  ) {}

  /** The keys as the file is now; a missing or unreadable file authorizes nobody. */
  async current(): Promise<readonly AuthorizedKey[]> {
    let text: string;
    try {
      text = await readFile(this.path, 'utf8');
    } catch (e) {
      const problem = (e as NodeJS.ErrnoException).code === 'ENOENT' ? 'does not exist' : `cannot be read: ${(e as Error).message}`;
      if (problem !== this.lastProblem) this.logger.warn({ file: this.path }, `authorized keys file ${this.path} ${problem}: no key may log in`);
      this.lastProblem = problem;
      this.lastText = undefined;
      this.keys = [];
      return this.keys;
    }
    this.lastProblem = undefined;
    if (text !== this.lastText) {
      const parsed = parseAuthorizedKeys(text);
      for (const w of parsed.warnings) {
        this.logger.warn({ file: this.path, line: w.line }, `${this.path}:${w.line}: ${w.message}; line skipped`);
      }
      this.logger.info({ file: this.path, keys: parsed.keys.length, skipped: parsed.warnings.length }, 'authorized keys loaded');
      this.lastText = text;
      this.keys = parsed.keys;
    }
    return this.keys;
  }
}
