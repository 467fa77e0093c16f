/**
 * The CLI's view of the coordinator's gRPC API: unary calls as promises with deadlines, AddPath
 * as a client stream that respects back-pressure, server streams (Watch, Logs, GetNar) as async
 * iterables that cancel the call when the consumer stops early. Every gRPC error becomes the
 * FarmError the server sent (`farmErrorFromGrpc`); UNAVAILABLE additionally names the address
 * and how it was found, because "connection refused" alone does not tell which farm was tried.
 * Every call carries the active trace context in its metadata (nothing when tracing is off).
 */
import type { ClientDuplexStream } from '@grpc/grpc-js';
import { FarmError, GRPC_STATUS, farmErrorFromGrpc, injectIntoMetadata, type GrpcErrorLike } from '@farm/common';
import {
  createCoordinatorClient,
  Metadata,
  type AddPathHeader,
  type AddPathResponse__Output,
  type CancelResponse__Output,
  type CoordinatorClient,
  type ExplainRequest,
  type ExplainResponse__Output,
  type GetInfoResponse__Output,
  type GetDoorInfoResponse__Output,
  type NixSessionInput,
  type NixSessionOutput__Output,
  type ListAgentsResponse__Output,
  type LogChunk__Output,
  type LogsRequest,
  type QueryMissingResponse__Output,
  type RetryResponse__Output,
  type AddDerivationsResponse__Output,
  type StatusResponse__Output,
  type SubmissionEvent__Output,
  type SubmitRequest,
  type SubmitResponse__Output,
} from '@farm/proto';
import { processAlive, type CoordinatorAddress } from './address.js';

/** The coordinator's upload stream takes NAR chunks of at most 1 MiB. */
export const MAX_NAR_CHUNK = 1024 * 1024;

export interface FarmClientOptions {
  /** Deadline of quick unary calls (info, status, agents, cancel, query); default 30 s. */
  readonly deadlineMs?: number;
  /** Deadline of Submit, which admits a whole DAG in one transaction; default 5 min. */
  readonly submitDeadlineMs?: number;
}

interface PendingCall {
  cancel(): void;
}

export class FarmClient {
  private readonly raw: CoordinatorClient;
  private readonly deadlineMs: number;
  private readonly submitDeadlineMs: number;

  constructor(
    readonly target: CoordinatorAddress,
    options: FarmClientOptions = {},
  ) {
    this.raw = createCoordinatorClient(target.address);
    this.deadlineMs = options.deadlineMs ?? 30_000;
    this.submitDeadlineMs = options.submitDeadlineMs ?? 300_000;
  }

  close(): void {
    this.raw.close();
  }

  getInfo(): Promise<GetInfoResponse__Output> {
    return this.unary('GetInfo', (m, o, cb) => this.raw.getInfo({}, m, o, cb));
  }

  /** Where the Nix door listens and its keys (`farm cache key`). */
  getDoorInfo(): Promise<GetDoorInfoResponse__Output> {
    return this.unary('GetDoorInfo', (m, o, cb) => this.raw.getDoorInfo({}, m, o, cb));
  }

  /** One Nix protocol session (`farm nix-stdio`): no deadline, it lasts as long as the client. */
  nixSession(): ClientDuplexStream<NixSessionInput, NixSessionOutput__Output> {
    return this.raw.nixSession(callMetadata());
  }

  queryMissing(paths: readonly string[]): Promise<string[]> {
    return this.unary<QueryMissingResponse__Output>('QueryMissing', (m, o, cb) => this.raw.queryMissing({ paths: [...paths] }, m, o, cb)).then((r) => r.missing);
  }

  submit(request: SubmitRequest): Promise<SubmitResponse__Output> {
    return this.unary('Submit', (m, o, cb) => this.raw.submit(request, m, o, cb), this.submitDeadlineMs);
  }

  cancel(submissionId: string): Promise<CancelResponse__Output> {
    return this.unary('Cancel', (m, o, cb) => this.raw.cancel({ submissionId }, m, o, cb));
  }

  status(submissionId = ''): Promise<StatusResponse__Output> {
    return this.unary('Status', (m, o, cb) => this.raw.status({ submissionId }, m, o, cb));
  }

  listAgents(): Promise<ListAgentsResponse__Output> {
    return this.unary('ListAgents', (m, o, cb) => this.raw.listAgents({}, m, o, cb));
  }

  /** Why a job is where it is (`farm explain`): exactly one of drvPath / jobId. */
  explain(request: ExplainRequest): Promise<ExplainResponse__Output> {
    return this.unary('Explain', (m, o, cb) => this.raw.explain(request, m, o, cb));
  }

  /** `farm retry`: forget the failures of a submission (or of one drv / job) and submit anew. */
  retry(target: string): Promise<RetryResponse__Output> {
    return this.unary('Retry', (m, o, cb) => this.raw.retry({ target }, m, o, cb), this.submitDeadlineMs);
  }

  /** AddDerivations: the `.drv`s in the order given (dependencies first); one already-valid flag each. */
  addDerivations(derivations: readonly { drvPath: string; aterm: Uint8Array }[]): Promise<boolean[]> {
    return this.unary<AddDerivationsResponse__Output>('AddDerivations', (m, o, cb) => this.raw.addDerivations({ derivations: [...derivations] }, m, o, cb), this.submitDeadlineMs).then(
      (r) => r.alreadyValid,
    );
  }

  /**
   * Uploads one path: the header, then the NAR in chunks of at most MAX_NAR_CHUNK bytes, waiting
   * for 'drain' whenever the stream's buffer is full. Stops sending as soon as the server has
   * answered (a refusal arrives before the NAR is complete) and rejects with its error.
   */
  async addPath(header: AddPathHeader, nar: AsyncIterable<Uint8Array> | Iterable<Uint8Array>): Promise<AddPathResponse__Output> {
    let call!: ReturnType<CoordinatorClient['addPath']>;
    let answered = false;
    const result = new Promise<AddPathResponse__Output>((resolve, reject) => {
      call = this.raw.addPath(callMetadata(), (err, res) => {
        answered = true;
        if (err !== null || res === undefined) reject(this.error(err ?? { code: GRPC_STATUS.INTERNAL, message: 'AddPath: no response' }, 'AddPath'));
        else resolve(res);
      });
    });
    const done = result.then(
      () => undefined,
      () => undefined,
    );
    const send = async (message: Parameters<typeof call.write>[0]): Promise<void> => {
      if (!call.write(message)) await Promise.race([new Promise<void>((r) => call.once('drain', () => r())), done]);
    };
    try {
      await send({ header });
      for await (const chunk of nar) {
        for (let at = 0; at < chunk.length && !answered; at += MAX_NAR_CHUNK) {
          await send({ nar: Buffer.from(chunk.buffer, chunk.byteOffset + at, Math.min(MAX_NAR_CHUNK, chunk.length - at)) });
        }
        if (answered) break;
      }
    } catch (e) {
      // Reading the local NAR failed: abandon the upload so the server discards it.
      call.cancel();
      await done;
      throw e;
    }
    if (!answered) call.end();
    return result;
  }

  /** Events of a submission from `fromSequence`, ending after the server ends the stream. */
  watch(submissionId: string, fromSequence = 0, signal?: AbortSignal): AsyncGenerator<SubmissionEvent__Output> {
    return this.serverStream('Watch', this.raw.watch({ submissionId, fromSequence }, callMetadata()), signal);
  }

  /** A job's log chunks; `signal` cancels the call (the generator then ends quietly). */
  logs(request: LogsRequest, signal?: AbortSignal): AsyncGenerator<LogChunk__Output> {
    return this.serverStream('Logs', this.raw.logs(request, callMetadata()), signal);
  }

  /** The NAR of a path the farm holds, as byte chunks. */
  async *getNar(path: string, signal?: AbortSignal): AsyncGenerator<Buffer> {
    for await (const chunk of this.serverStream('GetNar', this.raw.getNar({ path }, callMetadata()), signal)) yield chunk.data;
  }

  private unary<T>(
    method: string,
    start: (metadata: Metadata, options: { deadline: Date }, cb: (err: GrpcErrorLike | null, res?: T) => void) => unknown,
    deadlineMs = this.deadlineMs,
  ): Promise<T> {
    return new Promise<T>((resolve, reject) => {
      start(callMetadata(), { deadline: new Date(Date.now() + deadlineMs) }, (err, res) => {
        if (err !== null || res === undefined) reject(this.error(err ?? { code: GRPC_STATUS.INTERNAL, message: `${method}: no response` }, method));
        else resolve(res);
      });
    });
  }

  private async *serverStream<T>(method: string, call: AsyncIterable<T> & PendingCall & NodeJS.EventEmitter, signal?: AbortSignal): AsyncGenerator<T> {
    // An abort cancels the call even while the consumer is parked waiting for the next message
    // (a generator's return() would only take effect after that message arrives).
    const onAbort = (): void => call.cancel();
    if (aborted(signal)) return;
    signal?.addEventListener('abort', onAbort, { once: true });
    try {
      for await (const message of call) yield message;
    } catch (e) {
      if (aborted(signal)) return;
      throw this.error(e as GrpcErrorLike, method);
    } finally {
      signal?.removeEventListener('abort', onAbort);
      // Stopping early (break, return, throw in the consumer) must end the call on the server
      // too; the CANCELLED status that follows is expected and swallowed.
      call.on('error', () => undefined);
      call.cancel();
    }
  }

  /** The FarmError for a gRPC failure; UNAVAILABLE names the address and where it came from. */
  error(e: GrpcErrorLike, method: string): FarmError {
    const farm = farmErrorFromGrpc(e);
    const transport = e.code === GRPC_STATUS.UNAVAILABLE || e.code === GRPC_STATUS.DEADLINE_EXCEEDED;
    if (farm.code !== 'UNAVAILABLE' || !transport) return farm;
    const what = e.code === GRPC_STATUS.DEADLINE_EXCEEDED ? `did not answer ${method} in time` : 'is unreachable';
    let hint = '';
    if (this.target.pid !== undefined && !processAlive(this.target.pid)) hint = `; the farm up process (pid ${this.target.pid}) is no longer running`;
    return new FarmError(
      'UNAVAILABLE',
      `the farm coordinator at ${this.target.address} (${this.target.origin}) ${what}: ${farm.message.replace(/\.?\s*Resolution note:\s*$/, '')}${hint}`,
      { address: this.target.address },
      { cause: e },
    );
  }
}

/** A call's metadata: the active trace context (traceparent), if any. */
function callMetadata(): Metadata {
  const metadata = new Metadata();
  injectIntoMetadata(metadata);
  return metadata;
}

/** A function, so that TypeScript does not narrow `signal.aborted` across awaits. */
function aborted(signal: AbortSignal | undefined): boolean {
  return signal?.aborted === true;
}
