/**
 * `farm nar dump`, run: the NAR serialisation of a path on stdout, byte-identical to
 * `nix-store --dump`, with the failure handling commands/nar-dump.ts describes (a regular-file
 * stdout is truncated back on a midway error). Loaded by that command when it runs.
 */
import { fstatSync, ftruncateSync, lstatSync } from 'node:fs';
import type { Writable } from 'node:stream';
import { NarReadable, isNixFormatError } from '@farm/nix';

export async function dumpNar(options: { target: string; stdout: Writable; stderr: Writable }): Promise<number> {
  const { target, stdout: out, stderr } = options;
  const fd = (out as { fd?: unknown }).fd;
  const fileStart = typeof fd === 'number' ? regularFileSize(fd) : undefined;
  try {
    lstatSync(target);
  } catch (e) {
    stderr.write(`farm nar dump: cannot read ${target}: ${(e as { code?: string }).code ?? String(e)}\n`);
    return 1;
  }
  try {
    await pipeTo(new NarReadable(target), out);
    return 0;
  } catch (e) {
    if (fileStart !== undefined && typeof fd === 'number') ftruncateSync(fd, fileStart);
    stderr.write(`farm nar dump: ${isNixFormatError(e) ? e.message : String(e)}\n`);
    return 1;
  }
}

/** Size of fd if it is a regular file (where output starts when appending), else undefined. */
function regularFileSize(fd: number): number | undefined {
  try {
    const st = fstatSync(fd);
    return st.isFile() ? st.size : undefined;
  } catch {
    return undefined;
  }
}

/** Copies the readable into `out` with backpressure, without ending `out` (it is stdout). */
async function pipeTo(src: NarReadable, out: Writable): Promise<void> {
  for await (const chunk of src) {
    if (!out.write(chunk)) await new Promise<void>((resolve) => out.once('drain', resolve));
  }
  await new Promise<void>((resolve, reject) => out.write('', (err) => (err ? reject(err) : resolve())));
}
