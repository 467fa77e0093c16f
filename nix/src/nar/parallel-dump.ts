/**
 * Two-thread NAR dump for the synchronous APIs (dumpNarSync / hashPath). Dumping many small
 * files is bound by per-file syscalls, so a helper worker dumps some of the root directory's
 * entries while this thread dumps others; this thread emits everything in NAR order and hashes it.
 *
 * Invariants: output bytes are exactly the sequential dump's (each top-level entry is a
 * self-contained fragment, emitted in sorted order); each entry is dumped by exactly one thread
 * (atomic claim counter); memory is bounded by OUTSTANDING_CAP plus one chunk per thread; the
 * assembler never waits on anything the helper cannot finish (the helper's fragments arrive in the
 * order they are needed). Falls back to the sequential cursor when the root is not a directory or
 * has few entries (a worker costs a few milliseconds to start).
 */
import { createHash } from 'node:crypto';
import { lstatSync, readdirSync } from 'node:fs';
import { MessageChannel, Worker, receiveMessageOnPort, type MessagePort } from 'node:worker_threads';
import { NixFormatError, type NixErrorCode } from '../errors.js';
import { Hash } from '../hash/hash.js';
import { NarDumpCursor, type NarDumpResult } from './dump-cursor.js';
import { CTRL, CTRL_SLOTS, type HelperData, type HelperMessage } from './parallel-protocol.js';
import { SEQ } from './wire.js';

/** Root directories with fewer entries than this are dumped on one thread. */
export const PARALLEL_MIN_ENTRIES = 8;
const SLASH = Buffer.from('/');
const STALL_LIMIT_MS = 120_000;

/** Returns null when the tree should be dumped sequentially instead. */
export function dumpNarParallel(path: string | Buffer, onChunk: (chunk: Uint8Array) => void): NarDumpResult | null {
  const root = typeof path === 'string' ? Buffer.from(path) : path;
  let names: Buffer[];
  try {
    if (!lstatSync(root).isDirectory()) return null;
    names = readdirSync(root, { encoding: 'buffer' }).sort(Buffer.compare);
  } catch {
    return null; // let the sequential cursor report the error with its usual wording
  }
  if (names.length < PARALLEL_MIN_ENTRIES) return null;

  const ctrlBuf = new SharedArrayBuffer(CTRL_SLOTS * 4);
  const ctrl = new Int32Array(ctrlBuf);
  const { port1, port2 } = new MessageChannel();
  const data: HelperData = { root, names, ctrl: ctrlBuf, port: port2 };
  const worker = new Worker(new URL('./dump-worker.js', import.meta.url), { workerData: data, transferList: [port2] });
  worker.unref();

  const hasher = createHash('sha256');
  let size = 0;
  const emit = (c: Uint8Array): void => {
    hasher.update(c);
    size += c.length;
    onChunk(c);
  };
  try {
    emit(Buffer.concat([SEQ.magic, SEQ.nodeDirectory]));
    let myClaim = -1;
    for (let i = 0; i < names.length; i++) {
      if (myClaim === -1) myClaim = Atomics.add(ctrl, CTRL.NEXT, 1);
      if (myClaim === i) {
        myClaim = -1;
        const cursor = new NarDumpCursor(Buffer.concat([root, SLASH, names[i]!]), { entryName: names[i]!, hash: false, reuseBuffer: true });
        for (let c = cursor.next(); c !== null; c = cursor.next()) emit(c);
      } else {
        consumeHelperEntry(i, ctrl, port1, emit);
      }
    }
    emit(SEQ.close);
  } finally {
    Atomics.store(ctrl, CTRL.STOP, 1);
    Atomics.notify(ctrl, CTRL.OUTSTANDING);
    port1.close();
    void worker.terminate();
  }
  return { narHash: Hash.fromDigest('sha256', new Uint8Array(hasher.digest())), narSize: size };
}

function consumeHelperEntry(i: number, ctrl: Int32Array, port: MessagePort, emit: (c: Uint8Array) => void): void {
  for (;;) {
    const m = nextMessage(ctrl, port);
    if (m.i !== i) throw new NixFormatError('IO_ERROR', `parallel dump: expected entry ${i} from the helper, got ${m.i}`);
    if (m.kind === 'end') return;
    if (m.kind === 'error') throw new NixFormatError(m.code as NixErrorCode, m.message.replace(/ \(in [^)]*\)$/, ''));
    Atomics.sub(ctrl, CTRL.OUTSTANDING, m.len);
    Atomics.notify(ctrl, CTRL.OUTSTANDING);
    emit(new Uint8Array(m.buf, m.off, m.len));
  }
}

/** Blocks until the helper's next message (it bumps SIGNAL after each post). */
function nextMessage(ctrl: Int32Array, port: MessagePort): HelperMessage {
  const started = Date.now();
  for (;;) {
    const seen = Atomics.load(ctrl, CTRL.SIGNAL);
    const m = receiveMessageOnPort(port);
    if (m !== undefined) return m.message as HelperMessage;
    Atomics.wait(ctrl, CTRL.SIGNAL, seen, 1000);
    if (Date.now() - started > STALL_LIMIT_MS) throw new NixFormatError('IO_ERROR', 'parallel dump: the helper thread stopped responding');
  }
}
