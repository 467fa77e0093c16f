/**
 * `farm logs`, run: stream a job's build log to stdout, every attempt in order, with a
 * `--- attempt N ---` line on stderr where a new attempt begins and a note where the farm's log
 * limit cut the log. Loaded by commands/logs.ts when the command runs.
 */
import type { Writable } from 'node:stream';
import { FarmError, isFarmError } from '@farm/common';
import { DEFAULT_STORE_DIR } from '@farm/nix';
import type { LogsRequest } from '@farm/proto';
import type { FarmClient } from './coordinator-client.js';

export async function printLog(client: FarmClient, options: { target: string; follow: boolean; stdout: Writable; stderr: Writable }): Promise<number> {
  const { target, stdout, stderr } = options;
  const request = logsRequest(target, options.follow);
  let epoch: string | undefined;
  let attempts = 0;
  try {
    for await (const chunk of client.logs(request)) {
      if (chunk.epoch !== epoch) {
        attempts++;
        if (epoch !== undefined) stderr.write(`--- attempt ${attempts} ---\n`);
        epoch = chunk.epoch;
      }
      if (chunk.data.length > 0) await writeOut(stdout, chunk.data);
      if (chunk.truncated) stderr.write(`farm logs: the log of attempt ${attempts} was truncated here: the farm's per-job log limit was reached\n`);
    }
  } catch (e) {
    if (isFarmError(e, 'NOT_FOUND')) throw new FarmError('NOT_FOUND', `no build log for ${target}: ${e.message}`, {}, { cause: e });
    throw e;
  }
  return 0;
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
