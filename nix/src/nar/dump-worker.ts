/**
 * The helper thread of the parallel NAR dumper: claims top-level entries from the shared counter
 * and posts each one's NAR fragment to the assembler, pausing while too many bytes are unconsumed.
 */
import { parentPort, workerData } from 'node:worker_threads';
import { isNixFormatError } from '../errors.js';
import { NarDumpCursor } from './dump-cursor.js';
import { CTRL, OUTSTANDING_CAP, type HelperData, type HelperMessage } from './parallel-protocol.js';

const SLASH = Buffer.from('/');

function run(data: HelperData): void {
  const ctrl = new Int32Array(data.ctrl);
  const root = Buffer.from(data.root);
  const post = (m: HelperMessage, transfer: ArrayBuffer[] = []): void => {
    data.port.postMessage(m, transfer);
    Atomics.add(ctrl, CTRL.SIGNAL, 1);
    Atomics.notify(ctrl, CTRL.SIGNAL);
  };
  for (;;) {
    if (Atomics.load(ctrl, CTRL.STOP) !== 0) return;
    const i = Atomics.add(ctrl, CTRL.NEXT, 1);
    const name = data.names[i];
    if (name === undefined) return;
    const nameBuf = Buffer.from(name);
    try {
      const cursor = new NarDumpCursor(Buffer.concat([root, SLASH, nameBuf]), { entryName: nameBuf, hash: false, chunkSize: 256 * 1024 });
      for (let c = cursor.next(); c !== null; c = cursor.next()) {
        for (let o = Atomics.load(ctrl, CTRL.OUTSTANDING); o > OUTSTANDING_CAP; o = Atomics.load(ctrl, CTRL.OUTSTANDING)) {
          if (Atomics.load(ctrl, CTRL.STOP) !== 0) return;
          Atomics.wait(ctrl, CTRL.OUTSTANDING, o, 100);
        }
        Atomics.add(ctrl, CTRL.OUTSTANDING, c.length);
        post({ i, kind: 'chunk', buf: c.buffer as ArrayBuffer, off: c.byteOffset, len: c.length }, [c.buffer as ArrayBuffer]);
      }
      post({ i, kind: 'end' });
    } catch (e) {
      post({ i, kind: 'error', code: isNixFormatError(e) ? e.code : 'IO_ERROR', message: e instanceof Error ? e.message : String(e) });
      return;
    }
  }
}

if (parentPort !== null) run(workerData as HelperData);
