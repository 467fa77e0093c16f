/**
 * Opens one LMDB environment (a single file plus its lock file) with named sub-databases.
 * Shared by every piece of coordinator state (store, and later jobs and submissions), so that
 * one write transaction can span all of them and a restart reopens them all consistently.
 *
 * Commits are synchronous to disk (overlappingSync off): when a write's promise resolves, the
 * data survives a process kill or power loss.
 */
import { mkdirSync } from 'node:fs';
import { dirname } from 'node:path';
import { open, type Database, type RootDatabase } from 'lmdb';

export type LmdbEncoding = 'msgpack' | 'json' | 'string' | 'binary' | 'ordered-binary';

export interface LmdbEnvOptions<Names extends string> {
  /** The data file (its lock file is `<file>-lock`). */
  readonly file: string;
  readonly databases: Readonly<Record<Names, LmdbEncoding>>;
  /** Largest the map may grow to; LMDB reserves address space, not disk. */
  readonly mapSize?: number;
}

export interface LmdbEnv<Names extends string> {
  readonly root: RootDatabase;
  readonly dbs: Readonly<Record<Names, Database<any, string>>>;
  /**
   * Runs `action` in one write transaction across all databases: all of its writes commit
   * durably, or (if it throws) none do. Resolves after the commit.
   */
  transaction<T>(action: () => T): Promise<T>;
  close(): Promise<void>;
}

export function openLmdbEnv<Names extends string>(options: LmdbEnvOptions<Names>): LmdbEnv<Names> {
  mkdirSync(dirname(options.file), { recursive: true });
  const names = Object.keys(options.databases) as Names[];
  const root = open({
    path: options.file,
    maxDbs: Math.max(8, names.length + 4),
    mapSize: options.mapSize ?? 16 * 1024 * 1024 * 1024,
    overlappingSync: false,
    noSubdir: true,
  });
  const dbs = {} as Record<Names, Database<any, string>>;
  for (const name of names) {
    dbs[name] = root.openDB<any, string>(name, { encoding: options.databases[name] });
  }
  let closed = false;
  return {
    root,
    dbs,
    // lmdb-js's async transaction() commits whatever was written before a throw; the sync form
    // is abortable, which is the all-or-nothing every caller here relies on. It holds the write
    // lock only for the callback and one fsync; the callbacks are small and never await.
    transaction: async (action) => root.transactionSync(action),
    close: async () => {
      if (closed) return;
      closed = true;
      await root.close();
    },
  };
}
