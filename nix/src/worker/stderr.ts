/**
 * The worker logger channel (spec §7.3): after each request the server sends zero or more
 * STDERR_* messages, then exactly one STDERR_LAST (reply follows) or STDERR_ERROR (no reply).
 * STDERR_ERROR has two layouts: ≥1.26 a structured error, older a message + exit status.
 * Activity ids are bigint (Nix builds them as pid << 32 | counter, which can exceed 2^53).
 * An unknown code is BAD_WIRE: the rest of the stream cannot be interpreted.
 */
import { NixFormatError } from '../errors.js';
import { type WireReader, type WireWriter, encodeWith, protocolMinor, typed } from '../wire/index.js';
import { StderrCode } from './constants.js';

export type LoggerField = { readonly type: 'int'; readonly value: bigint } | { readonly type: 'string'; readonly value: string };

export interface WorkerError {
  /** ≥1.26: the error's type name (Nix always sends "Error"). */
  readonly errorType: string;
  readonly level: number;
  /** ≥1.26: unused name field (Nix sends "Error"). */
  readonly name: string;
  readonly message: string;
  /** Trace hints (positions are never sent). */
  readonly traces: readonly string[];
  /** < 1.26 only: the exit status. */
  readonly exitStatus: number;
}

export type StderrMessage =
  | { readonly type: 'next'; readonly text: string }
  | { readonly type: 'read'; readonly length: number }
  | { readonly type: 'write'; readonly data: Uint8Array }
  | { readonly type: 'last' }
  | { readonly type: 'error'; readonly error: WorkerError }
  | {
      readonly type: 'startActivity';
      readonly id: bigint;
      readonly level: number;
      readonly activityType: number;
      readonly text: string;
      readonly fields: readonly LoggerField[];
      readonly parent: bigint;
    }
  | { readonly type: 'stopActivity'; readonly id: bigint }
  | { readonly type: 'result'; readonly id: bigint; readonly resultType: number; readonly fields: readonly LoggerField[] };

/** A WorkerError with Nix's defaults for the fields a layout does not carry. */
export function workerError(message: string, extra: Partial<WorkerError> = {}): WorkerError {
  return { errorType: 'Error', level: 0, name: 'Error', traces: [], exitStatus: 1, message, ...extra };
}

function writeFields(w: WireWriter, fields: readonly LoggerField[]): void {
  w.u64(fields.length);
  for (const f of fields) {
    if (f.type === 'int') w.u64(0).u64(f.value);
    else w.u64(1).string(f.value);
  }
}

async function readFields(r: WireReader): Promise<LoggerField[]> {
  const n = await r.readCount('logger fields');
  const out: LoggerField[] = [];
  for (let i = 0; i < n; i++) {
    const at = r.offset;
    const type = await r.readInt('logger field type');
    if (type === 0) out.push({ type: 'int', value: await r.readU64('logger int field') });
    else if (type === 1) out.push({ type: 'string', value: await r.readString('logger string field') });
    else throw new NixFormatError('BAD_WIRE', `unknown logger field type ${type}`, { offset: at });
  }
  return out;
}

export function writeStderr(w: WireWriter, m: StderrMessage, version: number): void {
  switch (m.type) {
    case 'next':
      w.u64(StderrCode.Next).string(m.text);
      return;
    case 'read':
      w.u64(StderrCode.Read).u64(m.length);
      return;
    case 'write':
      w.u64(StderrCode.Write).bytes(m.data);
      return;
    case 'last':
      w.u64(StderrCode.Last);
      return;
    case 'error': {
      const e = m.error;
      w.u64(StderrCode.Error);
      if (protocolMinor(version) >= 26) {
        w.string(e.errorType).u64(e.level).string(e.name).string(e.message).u64(0).u64(e.traces.length);
        for (const t of e.traces) w.u64(0).string(t);
      } else {
        w.string(e.message).u64(e.exitStatus);
      }
      return;
    }
    case 'startActivity':
      w.u64(StderrCode.StartActivity).u64(m.id).u64(m.level).u64(m.activityType).string(m.text);
      writeFields(w, m.fields);
      w.u64(m.parent);
      return;
    case 'stopActivity':
      w.u64(StderrCode.StopActivity).u64(m.id);
      return;
    case 'result':
      w.u64(StderrCode.Result).u64(m.id).u64(m.resultType);
      writeFields(w, m.fields);
      return;
  }
}

export function encodeStderr(m: StderrMessage, version: number): Uint8Array[] {
  return encodeWith((w) => writeStderr(w, m, version));
}

export async function decodeStderr(r: WireReader, version: number): Promise<StderrMessage> {
  return typed(r, 'stderr message', () => readStderr(r, version));
}

async function readStderr(r: WireReader, version: number): Promise<StderrMessage> {
  const at = r.offset;
  const code = await r.readU64('stderr code');
  switch (code) {
    case BigInt(StderrCode.Next):
      return { type: 'next', text: await r.readString('log text') };
    case BigInt(StderrCode.Read):
      return { type: 'read', length: await r.readNumber('read length') };
    case BigInt(StderrCode.Write):
      return { type: 'write', data: await r.readBytes('write data') };
    case BigInt(StderrCode.Last):
      return { type: 'last' };
    case BigInt(StderrCode.Error):
      return { type: 'error', error: await readError(r, version) };
    case BigInt(StderrCode.StartActivity): {
      const id = await r.readU64('activity id');
      const level = await r.readInt('activity level');
      const activityType = await r.readInt('activity type');
      const text = await r.readString('activity text');
      const fields = await readFields(r);
      return { type: 'startActivity', id, level, activityType, text, fields, parent: await r.readU64('parent activity') };
    }
    case BigInt(StderrCode.StopActivity):
      return { type: 'stopActivity', id: await r.readU64('activity id') };
    case BigInt(StderrCode.Result): {
      const id = await r.readU64('activity id');
      const resultType = await r.readInt('result type');
      return { type: 'result', id, resultType, fields: await readFields(r) };
    }
    default:
      throw new NixFormatError('BAD_WIRE', `unknown stderr message code 0x${code.toString(16)}`, { offset: at });
  }
}

async function readError(r: WireReader, version: number): Promise<WorkerError> {
  if (protocolMinor(version) < 26) {
    const message = await r.readString('error message');
    return workerError(message, { exitStatus: await r.readInt('exit status') });
  }
  const errorType = await r.readString('error type');
  const level = await r.readInt('error level');
  const name = await r.readString('error name');
  const message = await r.readString('error message');
  const posAt = r.offset;
  if (await r.readBool('error position flag')) throw new NixFormatError('BAD_WIRE', 'error positions are not supported on the wire', { offset: posAt });
  const nTraces = await r.readCount('error traces');
  const traces: string[] = [];
  for (let i = 0; i < nTraces; i++) {
    const tAt = r.offset;
    if (await r.readBool('trace position flag')) throw new NixFormatError('BAD_WIRE', 'trace positions are not supported on the wire', { offset: tAt });
    traces.push(await r.readString('trace hint'));
  }
  return { errorType, level, name, message, traces, exitStatus: 1 };
}

/** The messages of one response phase and how it ended. */
export interface StderrPhase {
  readonly messages: readonly StderrMessage[];
  /** Present when the phase ended in STDERR_ERROR (then no reply follows). */
  readonly error?: WorkerError | undefined;
}

/**
 * Reads messages up to and including STDERR_LAST or STDERR_ERROR. `maxMessages` bounds a
 * hostile endless log (default 1e6).
 */
export async function readStderrPhase(r: WireReader, version: number, maxMessages = 1_000_000): Promise<StderrPhase> {
  const messages: StderrMessage[] = [];
  for (;;) {
    const m = await decodeStderr(r, version);
    messages.push(m);
    if (m.type === 'last') return { messages };
    if (m.type === 'error') return { messages, error: m.error };
    if (messages.length >= maxMessages) throw new NixFormatError('BAD_WIRE', `more than ${maxMessages} stderr messages before STDERR_LAST`, { offset: r.offset });
  }
}
