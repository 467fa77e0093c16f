/**
 * `farm logs <drv-or-job> [-f]`: a job's build log, raw bytes on stdout in order, every attempt;
 * a `--- attempt N ---` line on stderr where a new attempt (epoch) begins, and a note on stderr
 * where the farm's log limit cut the log.
 */
import type { Writable } from 'node:stream';
import { Command, Option } from 'clipanion';
import { FarmError, isFarmError } from '@farm/common';
import { DEFAULT_STORE_DIR } from '@farm/nix';
import type { LogsRequest } from '@farm/proto';
import { ClientCommand } from '../client/client-command.js';

export class LogsCommand extends ClientCommand {
  static override paths = [['logs']];

  static override usage = Command.Usage({
    category: 'Builds',
    description: "print a job's build log",
    details: `
      The argument is a derivation (\`/nix/store/…-name.drv\` or its base name) or a job id (the
      32-character hash part of the drv path, as \`farm status <submission>\` shows it).

      The log's bytes are written to stdout unchanged, every attempt in order; where a new attempt
      begins, a line \`--- attempt N ---\` goes to stderr. If the farm's per-job log limit was
      reached, stderr says so. With \`-f\` the log is followed while the job runs, until it ends.
    `,
    examples: [
      ['Print the log of a derivation', '$0 logs /nix/store/…-hello-2.12.drv'],
      ['Follow a running job by id', '$0 logs -f 0c5ch9zx8gqfnx5f8w2hfk3dzrz8v1yx'],
    ],
  });

  follow = Option.Boolean('-f,--follow', false, { description: 'keep printing while the job runs' });
  target = Option.String({ name: 'drv-or-job', required: true });

  override async execute(): Promise<number> {
    return this.withClient(async (client) => {
      const request = logsRequest(this.target, this.follow);
      let epoch: string | undefined;
      let attempts = 0;
      try {
        for await (const chunk of client.logs(request)) {
          if (chunk.epoch !== epoch) {
            attempts++;
            if (epoch !== undefined) this.context.stderr.write(`--- attempt ${attempts} ---\n`);
            epoch = chunk.epoch;
          }
          if (chunk.data.length > 0) await writeOut(this.context.stdout, chunk.data);
          if (chunk.truncated) this.context.stderr.write(`farm logs: the log of attempt ${attempts} was truncated here: the farm's per-job log limit was reached\n`);
        }
      } catch (e) {
        if (isFarmError(e, 'NOT_FOUND')) throw new FarmError('NOT_FOUND', `no build log for ${this.target}: ${e.message}`, {}, { cause: e });
        throw e;
      }
      return 0;
    });
  }
}

/** A bare 32-character hash part is a job id; anything else names a derivation. */
export function logsRequest(target: string, follow: boolean): LogsRequest {
  if (/^[0-9a-df-np-sv-z]{32}$/.test(target)) return { jobId: target, follow };
  const drvPath = target.includes('/') ? target : `${DEFAULT_STORE_DIR}/${target}`;
  return { drvPath, follow };
}

function writeOut(out: Writable, data: Uint8Array): Promise<void> {
  return new Promise((resolve) => {
    if (out.write(data)) resolve();
    else out.once('drain', () => resolve());
  });
}
