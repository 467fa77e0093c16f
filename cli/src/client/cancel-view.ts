/**
 * `farm cancel`, run: cancel a submission and print what was cancelled and what kept running
 * (and why). Loaded by commands/cancel.ts when the command runs.
 */
import type { Writable } from 'node:stream';
import { derivationNameFromPath } from '@farm/nix';
import type { FarmClient } from './coordinator-client.js';

export async function cancelSubmission(client: FarmClient, options: { submission: string; json: boolean; stdout: Writable }): Promise<number> {
  const { submission, stdout } = options;
  const r = await client.cancel(submission);
  if (options.json) {
    stdout.write(`${JSON.stringify({ submissionId: submission, cancelled: r.cancelled, leftRunning: r.leftRunning })}\n`);
    return 0;
  }
  const out: string[] = [];
  const left = Object.entries(r.leftRunning);
  out.push(`cancelled ${r.cancelled.length} derivation${r.cancelled.length === 1 ? '' : 's'} of ${submission}${r.cancelled.length > 0 ? ':' : ''}`);
  for (const d of [...r.cancelled].sort()) out.push(`  ${nameOf(d)}  ${d}`);
  if (left.length > 0) {
    out.push(`left running ${left.length}:`);
    for (const [d, why] of left.sort(([a], [b]) => (a < b ? -1 : 1))) out.push(`  ${nameOf(d)}  ${d}: ${why}`);
  }
  stdout.write(`${out.join('\n')}\n`);
  return 0;
}

function nameOf(drvPath: string): string {
  try {
    return derivationNameFromPath(drvPath);
  } catch {
    return drvPath;
  }
}
