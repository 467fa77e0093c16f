/**
 * Following a submission to its final event, as `farm submit` and `farm retry` both do: every
 * Watch event goes into the progress model and to the reporter (reconnecting when the stream
 * breaks), and with `-L` each job's build log is streamed from the moment it runs, then drained
 * for a grace period once the submission has ended.
 */
import type { ProgressModel } from '../progress/model.js';
import type { SubmitReporter } from '../progress/reporter.js';
import { BuildLogFollower } from './build-logs.js';
import type { FarmClient } from './coordinator-client.js';
import { followSubmission } from './watch.js';

export interface FollowSettings {
  readonly printBuildLogs: boolean;
  /** How long to wait for build logs to reach their end after the submission finished. */
  readonly logGraceMs?: number;
}

export async function followToEnd(client: FarmClient, submissionId: string, model: ProgressModel, reporter: SubmitReporter, settings: FollowSettings): Promise<void> {
  const logs = settings.printBuildLogs
    ? new BuildLogFollower(client, {
        line: (job, line) => reporter.logLine(job, line),
        notice: (job, text) => reporter.logNotice(job, text),
        error: (job, e) => reporter.notice(`no build log for ${job.name}: ${(e as Error).message}`),
      })
    : undefined;
  try {
    const events = followSubmission(client, submissionId, {
      onReconnect: (n, e) => reporter.notice(`lost the event stream (${(e as Error).message}); reconnecting (attempt ${n})`),
    });
    for await (const e of events) {
      const change = model.apply(e);
      reporter.event(e, change);
      if (logs !== undefined && change?.phaseChanged === true && change.job.phase === 'running') {
        logs.jobRunning({ jobId: change.job.jobId, drvPath: change.job.drvPath, name: change.job.name });
      }
    }
    await logs?.drain(settings.logGraceMs ?? 5000);
  } finally {
    logs?.stop();
  }
}
