/**
 * The last N lines of a build log, kept while the log streams past (Nix's `log-lines`). Bytes
 * are split on '\n' only; an unfinished last line counts as a line. Memory is bounded by N lines
 * plus the current partial line, which is itself capped so a log without newlines cannot grow it.
 */
import { StringDecoder } from 'node:string_decoder';

const MAX_LINE_BYTES = 64 * 1024;

export class LogTail {
  private readonly lines: string[] = [];
  private partial = '';
  /** Keeps a UTF-8 sequence split across chunks whole. */
  private readonly decoder = new StringDecoder('utf8');

  constructor(private readonly maxLines: number) {}

  push(chunk: Uint8Array): void {
    const text = this.partial + this.decoder.write(Buffer.from(chunk.buffer, chunk.byteOffset, chunk.length));
    const parts = text.split('\n');
    this.partial = parts.pop()!.slice(-MAX_LINE_BYTES);
    // Only the last maxLines complete lines of this chunk can survive.
    for (const line of parts.slice(-this.maxLines)) this.add(line);
  }

  /** The retained lines, oldest first. */
  get(): string[] {
    const all = this.partial === '' ? [...this.lines] : [...this.lines, this.partial];
    return all.slice(-this.maxLines);
  }

  private add(line: string): void {
    this.lines.push(line.length > MAX_LINE_BYTES ? line.slice(-MAX_LINE_BYTES) : line);
    if (this.lines.length > this.maxLines) this.lines.shift();
  }
}
