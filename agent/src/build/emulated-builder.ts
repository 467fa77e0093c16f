/**
 * The sandbox command for a builder of an emulated system (see ../emulation.ts):
 * - binfmt with the F flag: nothing to do, the kernel runs it;
 * - binfmt without F: the kernel opens the interpreter by path when the builder is executed,
 *   inside the sandbox, so the interpreter is bound there at its host path;
 * - qemu: a builder that is an ELF executable of the emulated CPU is started as
 *   `<qemu> <builder> <args…>`, with the qemu binary bound at QEMU_DIR/<name>. A builder that is
 *   not (a shell script, the host's /bin/sh) runs as is: the host executes it natively, as the
 *   kernel would with binfmt.
 */
import { closeSync, openSync, readSync } from 'node:fs';
import { basename, join } from 'node:path';
import { elfMachineOf, type Emulator } from '../emulation.js';
import type { SandboxBind } from '../sandbox/sandbox-paths.js';

/** Where the sandbox sees an explicitly run qemu (outside the store and the build dir). */
export const QEMU_DIR = '/run/farm-emulator';

export interface SandboxCommand {
  readonly builder: string;
  readonly args: readonly string[];
  /** Extra read-only binds the command needs. */
  readonly binds: readonly SandboxBind[];
}

/**
 * `hostPathOf(p)`: where the host keeps what the sandbox shows at `p` (an input store path or a
 * sandbox path), undefined if nothing is there.
 */
export function emulatedCommand(emulator: Emulator, builder: string, args: readonly string[], hostPathOf: (p: string) => string | undefined): SandboxCommand {
  if (emulator.mode === 'binfmt') {
    return { builder, args, binds: emulator.fixBinary ? [] : [{ source: emulator.interpreter, target: emulator.interpreter }] };
  }
  const host = hostPathOf(builder);
  const elf = host === undefined ? undefined : elfMachineOf(readHeader(host));
  if (elf === undefined || elf.machine !== emulator.elfMachine || elf.elf64 !== emulator.elf64) return { builder, args, binds: [] };
  const qemu = join(QEMU_DIR, basename(emulator.interpreter));
  return { builder: qemu, args: [builder, ...args], binds: [{ source: emulator.interpreter, target: qemu }] };
}

/** The first 20 bytes of a file (fewer if it is shorter or unreadable: then it is not an ELF file we run). */
function readHeader(path: string): Uint8Array {
  const header = Buffer.alloc(20);
  let fd: number | undefined;
  try {
    fd = openSync(path, 'r');
    const n = readSync(fd, header, 0, header.length, 0);
    return header.subarray(0, n);
  } catch {
    return new Uint8Array(0);
  } finally {
    if (fd !== undefined) closeSync(fd);
  }
}
