/**
 * `<hash>.ls` files: a NAR's listing (nar-listing.ts) is made the first time it is asked for,
 * written through tmp/ and renamed to `ls/<narHash>.ls` in the work dir, and served from there
 * afterwards (a listing costs a full read of the NAR; a request costs a stat). Concurrent first
 * requests share one run.
 */
import { createWriteStream } from 'node:fs';
import { rename, rm, stat } from 'node:fs/promises';
import { join } from 'node:path';
import { Readable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import type { PathInfo } from '@farm/nix';
import type { FarmStore } from '../../ports/farm-store.js';
import { narListing } from './nar-listing.js';
import { tempName, type WorkLayout } from './work-layout.js';

export interface ListingFile {
  readonly file: string;
  readonly size: number;
}

export class NarListings {
  private readonly pending = new Map<string, Promise<ListingFile>>();
  private readonly stop = new AbortController();

  constructor(
    private readonly store: FarmStore,
    private readonly layout: WorkLayout,
  ) {}

  async listingOf(info: PathInfo): Promise<ListingFile> {
    const key = info.narHash.nix32;
    const file = join(this.layout.lsDir, `${key}.ls`);
    const size = await sizeOf(file);
    if (size !== undefined) return { file, size };
    let running = this.pending.get(key);
    if (running === undefined) {
      running = this.write(info, file).finally(() => this.pending.delete(key));
      this.pending.set(key, running);
    }
    return running;
  }

  async close(): Promise<void> {
    this.stop.abort();
    await Promise.allSettled([...this.pending.values()]);
  }

  private async write(info: PathInfo, file: string): Promise<ListingFile> {
    const tmp = tempName(this.layout);
    try {
      const nar = await this.store.narStream(info.path);
      try {
        await pipeline(Readable.from(narListing(nar)), createWriteStream(tmp), { signal: this.stop.signal });
      } finally {
        nar.destroy(); // the NAR reader stops pulling at an error; release the file now
      }
      await rename(tmp, file);
      return { file, size: (await sizeOf(file)) ?? 0 };
    } finally {
      await rm(tmp, { force: true });
    }
  }
}

async function sizeOf(file: string): Promise<number | undefined> {
  try {
    return (await stat(file)).size;
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code === 'ENOENT') return undefined;
    throw e;
  }
}
