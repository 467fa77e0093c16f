/**
 * Publishes one message to a JetStream stream over the plain NATS text protocol (CONNECT, SUB,
 * HPUB with a `Nats-Msg-Id` header, then the stream's ack on the reply inbox), so a fault test
 * can put on the wire exactly what a misbehaving or late agent would send. Written against the
 * protocol because the test packages do not depend on nats.js; the one message this does is
 * all a test needs.
 */
import { connect } from 'node:net';
import { randomBytes } from 'node:crypto';

export interface JetStreamAck {
  readonly stream: string;
  readonly seq: number;
  readonly duplicate: boolean;
}

/** `url` is `nats://host:port`. Rejects on a protocol error, a JetStream error or no stream. */
export function jetStreamPublish(url: string, subject: string, payload: Uint8Array, options: { msgId?: string; timeoutMs?: number } = {}): Promise<JetStreamAck> {
  const { hostname, port } = new URL(url);
  const inbox = `_INBOX.${randomBytes(8).toString('hex')}`;
  const headers = `NATS/1.0\r\n${options.msgId === undefined ? '' : `Nats-Msg-Id: ${options.msgId}\r\n`}\r\n`;
  const hdrLen = Buffer.byteLength(headers);
  return new Promise((resolve, reject) => {
    const sock = connect(Number(port), hostname);
    let buf = Buffer.alloc(0);
    let sent = false;
    const done = (err: Error | undefined, ack?: JetStreamAck): void => {
      clearTimeout(timer);
      sock.destroy();
      if (err !== undefined) reject(err);
      else resolve(ack!);
    };
    const timer = setTimeout(() => done(new Error(`no JetStream ack for ${subject} within ${options.timeoutMs ?? 10_000} ms`)), options.timeoutMs ?? 10_000);
    sock.on('error', (e) => done(e));
    sock.on('data', (d: Buffer) => {
      buf = Buffer.concat([buf, d]);
      for (;;) {
        const eol = buf.indexOf('\r\n');
        if (eol < 0) return;
        const line = buf.subarray(0, eol).toString();
        const [op = '', ...args] = line.split(' ');
        if (op === 'MSG' || op === 'HMSG') {
          // MSG <subject> <sid> [reply] <bytes> | HMSG <subject> <sid> [reply] <hdr bytes> <total bytes>
          const total = Number(args[args.length - 1]);
          const hdr = op === 'HMSG' ? Number(args[args.length - 2]) : 0;
          if (buf.length < eol + 2 + total + 2) return; // wait for the whole payload
          const body = buf.subarray(eol + 2, eol + 2 + total);
          buf = buf.subarray(eol + 2 + total + 2);
          const status = body.subarray(0, hdr).toString();
          if (hdr > 0 && /^NATS\/1\.0 503/.test(status)) return done(new Error(`no stream listens on ${subject} (503 no responders)`));
          let ack: { stream?: string; seq?: number; duplicate?: boolean; error?: { description?: string } };
          try {
            ack = JSON.parse(body.subarray(hdr).toString()) as typeof ack;
          } catch {
            return done(new Error(`unexpected reply to a JetStream publish: ${body.toString()}`));
          }
          if (ack.error !== undefined) return done(new Error(`JetStream refused the message: ${ack.error.description ?? JSON.stringify(ack.error)}`));
          return done(undefined, { stream: String(ack.stream), seq: Number(ack.seq), duplicate: ack.duplicate === true });
        }
        buf = buf.subarray(eol + 2);
        if (op === 'INFO' && !sent) {
          sent = true;
          const hpub = Buffer.concat([
            Buffer.from(
              `CONNECT {"verbose":false,"pedantic":false,"headers":true,"no_responders":true,"protocol":1,"lang":"farm-chaos-tests","version":"0"}\r\n` +
                `SUB ${inbox} 1\r\nHPUB ${subject} ${inbox} ${hdrLen} ${hdrLen + payload.length}\r\n${headers}`,
            ),
            Buffer.from(payload),
            Buffer.from('\r\n'),
          ]);
          sock.write(hpub);
        } else if (op === 'PING') {
          sock.write('PONG\r\n');
        } else if (op === '-ERR') {
          return done(new Error(`NATS error: ${line}`));
        }
      }
    });
  });
}
