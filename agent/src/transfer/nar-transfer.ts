/**
 * The agent's side of the coordinator's NAR transfers over gRPC (bulk bytes never go over
 * NATS): GetNar as an async iterable of chunks, and AddPath of one built output streamed from the
 * NAR writer with back-pressure. Every gRPC failure surfaces as a FarmError rebuilt from the
 * server's `farm-error-code` (farmErrorFromGrpc); an abort surfaces as the signal's reason.
 */
import { once } from 'node:events';
import { FarmError, farmErrorFromGrpc, injectIntoMetadata, type GrpcErrorLike } from '@farm/common';
import { narChunks, type NarDumpResult } from '@farm/nix';
import { createCoordinatorClient, Metadata, type AddPathChunk, type CoordinatorClient, type Lease, type PathInfo } from '@farm/proto';

/** The contract's upper bound for one NAR chunk message. */
export const MAX_NAR_CHUNK = 1024 * 1024;

/** What the local store needs to fetch a path: the NAR bytes of `path`, in order. */
export type NarFetcher = (path: string, signal?: AbortSignal) => AsyncIterable<Uint8Array>;

export interface UploadRequest {
  /** The PathInfo announced in the header (narHash/narSize as the build computed them). */
  readonly info: PathInfo;
  /** The lease the output was built under; omitted for a client upload. */
  readonly lease?: Lease | undefined;
  /** The tree on disk to serialise. */
  readonly localPath: string;
  readonly signal?: AbortSignal | undefined;
}

export class NarTransfer {
  private constructor(private readonly client: CoordinatorClient) {}

  static connect(address: string): NarTransfer {
    return new NarTransfer(createCoordinatorClient(address));
  }

  static of(client: CoordinatorClient): NarTransfer {
    return new NarTransfer(client);
  }

  /** GetNar: the chunks of `path`'s NAR. Breaking out of the loop cancels the call. */
  readonly getNar: NarFetcher = (path, signal) => this.getNarImpl(path, signal);

  private async *getNarImpl(path: string, signal?: AbortSignal): AsyncGenerator<Uint8Array> {
    signal?.throwIfAborted();
    const call = this.client.getNar({ path }, callMetadata());
    const onAbort = () => call.cancel();
    signal?.addEventListener('abort', onAbort, { once: true });
    try {
      for await (const chunk of call as AsyncIterable<{ data: Buffer }>) yield chunk.data;
    } catch (e) {
      signal?.throwIfAborted();
      throw farmErrorFromGrpc(e as GrpcErrorLike);
    } finally {
      signal?.removeEventListener('abort', onAbort);
      call.cancel(); // no-op after a normal end; stops the server when the consumer gave up
    }
  }

  /**
   * AddPath: header (info + lease) then NAR chunks of at most 1 MiB, waiting for 'drain' when
   * the call's buffer is full. The NAR is hashed as it is sent; if it no longer matches
   * info.narHash (the tree changed on disk) the call is cancelled before it completes, so the
   * coordinator never commits it. Resolves with the server's `alreadyValid`.
   */
  async addPath(req: UploadRequest): Promise<{ alreadyValid: boolean }> {
    req.signal?.throwIfAborted();
    let settle!: { resolve: (v: { alreadyValid: boolean }) => void; reject: (e: unknown) => void };
    const response = new Promise<{ alreadyValid: boolean }>((resolve, reject) => (settle = { resolve, reject }));
    response.catch(() => undefined); // observed below; never an unhandled rejection
    const call = this.client.addPath(callMetadata(), (err, res) => {
      if (err !== null && err !== undefined) settle.reject(farmErrorFromGrpc(err));
      else settle.resolve({ alreadyValid: res?.alreadyValid ?? false });
    });
    call.on('error', () => undefined); // errors arrive through the callback
    const onAbort = () => call.cancel();
    req.signal?.addEventListener('abort', onAbort, { once: true });
    try {
      const header = { info: req.info, ...(req.lease === undefined ? {} : { lease: req.lease }) };
      await writeOrWait(call, { header }, response);
      // Chunks no larger than the NAR: most outputs are small, and a 1 MiB buffer per upload
      // is garbage the agent then spends its time collecting.
      const nar = narChunks(req.localPath, { chunkSize: Math.min(MAX_NAR_CHUNK, Math.max(1, Number(req.info.narSize ?? 0)) || MAX_NAR_CHUNK) });
      let step = nar.next();
      for (; step.done !== true; step = nar.next()) {
        req.signal?.throwIfAborted();
        await writeOrWait(call, { nar: step.value }, response);
      }
      checkDump(req.info, step.value);
      call.end();
      return await response;
    } catch (e) {
      call.cancel();
      req.signal?.throwIfAborted();
      throw e;
    } finally {
      req.signal?.removeEventListener('abort', onAbort);
    }
  }

  close(): void {
    this.client.close();
  }
}

type UploadCall = ReturnType<CoordinatorClient['addPath']>;

/** The call's metadata: the active trace context (the attempt's `fetch inputs` / `upload outputs` span). */
function callMetadata(): Metadata {
  const metadata = new Metadata();
  injectIntoMetadata(metadata);
  return metadata;
}

async function writeOrWait(call: UploadCall, message: AddPathChunk, response: Promise<unknown>): Promise<void> {
  if (call.write(message)) return;
  // The server may fail the call while we wait (stale lease): the response rejects then.
  await Promise.race([once(call, 'drain'), response.then(() => Promise.reject(new FarmError('INTERNAL', 'AddPath answered before the upload ended')))]);
}

function checkDump(info: PathInfo, dumped: NarDumpResult): void {
  const claimed = String(info.narHash ?? '');
  const got = dumped.narHash.toPrefixed('nix32');
  if (got !== claimed || String(dumped.narSize) !== String(info.narSize ?? '')) {
    throw new FarmError('FAILED_PRECONDITION', `${info.path ?? '?'} changed on disk since it was built: its NAR is now ${got} (${dumped.narSize} bytes), expected ${claimed} (${String(info.narSize)} bytes)`, {
      path: String(info.path ?? ''),
    });
  }
}
