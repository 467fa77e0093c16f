/**
 * `farm retry`, run: check the flags, ask the coordinator to retry, say what it retried (the
 * first JSON line with --json), then follow the new submission with the same display as
 * `farm submit`; Ctrl-C stops watching, not the builds. Loaded by commands/retry.ts when the
 * command runs.
 */
import { FarmError, systemClock } from '@farm/common';
import type { SubmitReporter } from '../progress/reporter.js';
import type { FarmClient } from './coordinator-client.js';
import { chooseReporter, type ReporterIo } from './reporter-choice.js';
import { retriedJson, retriedLine, runRetry, type RetrySettings } from './retry-flow.js';

export interface RetryFlags {
  readonly target: string;
  readonly printBuildLogs: boolean;
  readonly json: boolean;
  readonly noWait: boolean;
}

/** Checks the flags; throws INVALID_ARGUMENT naming the bad one. */
export function retrySettings(flags: RetryFlags): RetrySettings {
  if (flags.noWait && flags.printBuildLogs) throw new FarmError('INVALID_ARGUMENT', '--no-wait cannot be combined with --print-build-logs');
  if (flags.target.trim() === '') throw new FarmError('INVALID_ARGUMENT', 'name what to retry: a submission id, a derivation or a job id');
  return { target: flags.target, printBuildLogs: flags.printBuildLogs, noWait: flags.noWait };
}

export async function retryAndWatch(client: FarmClient, settings: RetrySettings, flags: Pick<RetryFlags, 'json' | 'noWait'>, io: ReporterIo): Promise<number> {
  let reporter: SubmitReporter | undefined;
  let submissionId: string | undefined;
  const onInterrupt = (): void => {
    reporter?.close();
    if (submissionId !== undefined) io.stderr.write(`farm retry: stopped watching; ${submissionId} goes on on the farm (\`farm cancel ${submissionId}\` stops it)\n`);
    process.exit(130);
  };
  process.once('SIGINT', onInterrupt);
  try {
    const outcome = await runRetry(
      client,
      settings,
      (model) => (reporter = chooseReporter(model, flags.json, io)),
      systemClock,
      {
        retried: (r, rep) => {
          submissionId = r.submissionId;
          if (flags.json) io.stdout.write(`${JSON.stringify(retriedJson(r))}\n`);
          else rep.notice(retriedLine(r));
        },
        submitted: (id) => {
          if (flags.noWait && !flags.json) io.stdout.write(`${id}\n`);
        },
      },
    );
    return outcome.exitCode;
  } finally {
    process.off('SIGINT', onInterrupt);
  }
}
