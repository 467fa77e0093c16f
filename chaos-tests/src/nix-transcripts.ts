/**
 * The Nix 2.8 transcripts of shared/vectors (17 recorded sessions between real Nix clients and
 * a real Nix server) as the door replay uses them: the client's byte stream cut into requests
 * by the server-side decoders, and any server's answer bytes (Nix's recorded ones or the farm's)
 * decoded request by request with the client-side decoders, exactly as Nix's client reads them.
 * An answer that stops early, or leaves bytes over, is reported, not thrown: whether that is
 * right depends on what Nix's server did at the same point.
 */
import {
  decodeServeClientHello,
  decodeServeReply,
  decodeServeRequest,
  decodeServeServerHello,
  decodeStderr,
  decodeWorkerClientMagic,
  decodeWorkerClientSettings,
  decodeWorkerClientVersion,
  decodeWorkerRequest,
  decodeWorkerResponse,
  decodeWorkerServerHello,
  decodeWorkerServerInfo,
  negotiateVersion,
  readStderrPhase,
  SERVE_PROTOCOL_VERSION,
  StreamSource,
  WireReader,
  WORKER_PROTOCOL_VERSION,
  type ServeReply,
  type ServeRequest,
  type StderrMessage,
  type WorkerResponse,
  type WorkerRequest,
  type WorkerServerInfo,
} from '@farm/nix';
import { readVectorJson } from '@farm/testkit';

export interface RecordedTranscript {
  readonly scenario: string;
  readonly description: string;
  readonly protocol: 'serve' | 'worker';
  readonly c2sBase64: string;
  readonly s2cBase64: string;
  readonly exchanges: readonly { readonly op: string }[];
  readonly unparsedServerBytesHex: string;
  readonly clientDrvFiles?: Readonly<Record<string, string>>;
}

export interface TranscriptIndexEntry {
  readonly file: string;
  readonly protocol: 'serve' | 'worker';
  readonly ops: readonly string[];
}

export function transcriptIndex(): TranscriptIndexEntry[] {
  return readVectorJson<TranscriptIndexEntry[]>('transcripts/index.json');
}

export function loadTranscript(scenario: string): RecordedTranscript {
  return readVectorJson<RecordedTranscript>(`transcripts/${scenario}.json`);
}

export const clientBytes = (t: RecordedTranscript): Uint8Array => new Uint8Array(Buffer.from(t.c2sBase64, 'base64'));
export const nixServerBytes = (t: RecordedTranscript): Uint8Array => new Uint8Array(Buffer.from(t.s2cBase64, 'base64'));

export type ClientSession =
  | { readonly protocol: 'serve'; readonly version: number; readonly requests: readonly ServeRequest[] }
  | { readonly protocol: 'worker'; readonly version: number; readonly requests: readonly WorkerRequest[] };

/** The client's stream as a server reads it: handshake, then requests to the end. */
export async function decodeClientSession(t: RecordedTranscript): Promise<ClientSession> {
  const r = new WireReader(new StreamSource(clientBytes(t)));
  if (t.protocol === 'serve') {
    const hello = await decodeServeClientHello(r);
    const version = negotiateVersion(hello.clientVersion, SERVE_PROTOCOL_VERSION);
    const requests: ServeRequest[] = [];
    for (let req = await decodeServeRequest(r, version); req !== undefined; req = await decodeServeRequest(r, version)) requests.push(req);
    return { protocol: 'serve', version, requests };
  }
  await decodeWorkerClientMagic(r);
  const version = negotiateVersion(await decodeWorkerClientVersion(r), WORKER_PROTOCOL_VERSION);
  await decodeWorkerClientSettings(r, version);
  const requests: WorkerRequest[] = [];
  for (let req = await decodeWorkerRequest(r, version); req !== undefined; req = await decodeWorkerRequest(r, version)) requests.push(req);
  return { protocol: 'worker', version, requests };
}

/** Common to both protocols' decoded answers. */
interface AnswerTail {
  /** Index of the first request the stream ended before answering (the server hung up); undefined = all answered. */
  readonly endedAt: number | undefined;
  /** What the decoder said when an answer could not be read (truncated or malformed). */
  readonly decodeError: string | undefined;
  /** Bytes after the last answer. */
  readonly leftover: Uint8Array;
}

export interface ServeAnswers extends AnswerTail {
  readonly serverVersion: number;
  readonly replies: readonly ServeReply[];
}

export interface WorkerAnswers extends AnswerTail {
  readonly serverVersion: number;
  readonly info: WorkerServerInfo;
  readonly startup: readonly StderrMessage[];
  readonly responses: readonly WorkerResponse[];
  /** `leftover` read as stderr messages, when it is a whole number of them (Nix repeats a fatal error). */
  readonly trailing: readonly StderrMessage[] | undefined;
}

const message = (e: unknown): string => (e instanceof Error ? e.message : String(e));

async function rest(r: WireReader): Promise<Uint8Array> {
  const parts: Uint8Array[] = [];
  while (!(await r.atEnd())) parts.push((await r.readRaw(1)).slice());
  return new Uint8Array(Buffer.concat(parts));
}

/**
 * One answer per request, as a client reads them: stops where the server's bytes end (endedAt)
 * or where an answer cannot be decoded (decodeError, naming which).
 */
async function decodeEach<Req, Ans>(
  r: WireReader,
  requests: readonly Req[],
  decode: (req: Req) => Promise<Ans>,
  label: (req: Req, i: number) => string,
): Promise<{ answers: Ans[]; endedAt: number | undefined; decodeError: string | undefined }> {
  const answers: Ans[] = [];
  for (const [i, req] of requests.entries()) {
    if (await r.atEnd()) return { answers, endedAt: i, decodeError: undefined };
    try {
      answers.push(await decode(req));
    } catch (e) {
      return { answers, endedAt: i, decodeError: `${label(req, i)}: ${message(e)}` };
    }
  }
  return { answers, endedAt: undefined, decodeError: undefined };
}

/** A serve server's bytes as Nix's client reads them, one reply per request. */
export async function decodeServeAnswers(bytes: Uint8Array, requests: readonly ServeRequest[], version: number): Promise<ServeAnswers> {
  const r = new WireReader(new StreamSource(bytes));
  const { serverVersion } = await decodeServeServerHello(r);
  const { answers: replies, endedAt, decodeError } = await decodeEach(r, requests, (req) => decodeServeReply(r, req, version), (req, i) => `reply #${i + 1} (${req.cmd})`);
  return { serverVersion, replies, endedAt, decodeError, leftover: decodeError === undefined ? await rest(r) : new Uint8Array(0) };
}

/** A worker server's bytes as Nix's client reads them: handshake, then stderr phase + reply per request. */
export async function decodeWorkerAnswers(bytes: Uint8Array, requests: readonly WorkerRequest[], version: number): Promise<WorkerAnswers> {
  const r = new WireReader(new StreamSource(bytes));
  const serverVersion = await decodeWorkerServerHello(r);
  const info = await decodeWorkerServerInfo(r, version);
  const startup = (await readStderrPhase(r, version)).messages;
  const { answers: responses, endedAt, decodeError } = await decodeEach(r, requests, (req) => decodeWorkerResponse(r, req, version), (req, i) => `response #${i + 1} (${req.op})`);
  const leftover = decodeError === undefined ? await rest(r) : new Uint8Array(0);
  let trailing: StderrMessage[] | undefined = [];
  try {
    const t = new WireReader(new StreamSource(leftover));
    while (!(await t.atEnd())) trailing.push(await decodeStderr(t, version));
  } catch {
    trailing = undefined;
  }
  return { serverVersion, info, startup, responses, endedAt, decodeError, leftover, trailing };
}
