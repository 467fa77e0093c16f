/**
 * Server-sent events (the `text/event-stream` format of the HTML standard) on a plain Node
 * response: `event:` + one `data:` line per line of the payload + a blank line, comments (a line
 * starting with ':') as keep-alives so proxies do not close an idle stream, and `retry:` telling
 * EventSource how soon to reconnect. Writes respect backpressure (a slow client is waited for,
 * never buffered without bound) and stop once `signal` aborts (client gone or server closing).
 */
import { once } from 'node:events';
import type { ServerResponse } from 'node:http';

export interface SseStream {
  /** Sends one event; resolves when the client can take more. No-op once closed. */
  send(event: string, data: unknown): Promise<void>;
  /** A comment line (ignored by EventSource): keeps the connection open through proxies. */
  comment(text: string): Promise<void>;
  /** Ends the response (the client should not reconnect: send an event saying so first). */
  end(): void;
  readonly closed: boolean;
}

/** Frames one event: payload lines split on any newline so none can end the event early. */
export function sseFrame(event: string, data: string): string {
  if (/[\r\n]/.test(event)) throw new Error('an SSE event name has no line breaks');
  const lines = data.split(/\r\n|\r|\n/).map((l) => `data: ${l}\n`);
  return `event: ${event}\n${lines.join('')}\n`;
}

export interface SseOptions {
  /** How soon EventSource reconnects after a lost connection (default 2000 ms). */
  readonly retryMs?: number;
  /** A keep-alive comment this often while the stream is open (default 15000 ms). */
  readonly keepAliveMs?: number;
}

export function openSse(res: ServerResponse, signal: AbortSignal, options: SseOptions = {}): SseStream {
  res.writeHead(200, {
    'content-type': 'text/event-stream; charset=utf-8',
    'cache-control': 'no-store',
    'x-accel-buffering': 'no', // nginx: pass events through at once
    connection: 'keep-alive',
  });
  res.flushHeaders();
  const closed = () => signal.aborted || res.destroyed || res.writableEnded;
  const write = async (text: string): Promise<void> => {
    if (closed()) return;
    if (res.write(text)) return;
    await Promise.race([once(res, 'drain'), once(signal, 'abort')]).catch(() => undefined);
  };
  const comment = (text: string) => write(`: ${text.replace(/[\r\n]+/g, ' ')}\n\n`);
  const keepAlive = setInterval(() => void comment('keep-alive'), options.keepAliveMs ?? 15_000);
  keepAlive.unref();
  const stop = () => clearInterval(keepAlive);
  signal.addEventListener('abort', stop, { once: true });
  res.once('close', stop);
  void write(`retry: ${options.retryMs ?? 2000}\n\n`);
  return {
    send: (event, data) => write(sseFrame(event, JSON.stringify(data))),
    comment,
    end: () => {
      stop();
      if (!res.writableEnded) res.end();
    },
    get closed() {
      return closed();
    },
  };
}
