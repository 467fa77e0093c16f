/**
 * `farm submit`, run: turn the command's flags into SubmitSettings, pick the progress display
 * (JSON, live view on a terminal, plain lines otherwise) and run the submit flow, with Ctrl-C
 * meaning "stop watching". Loaded by commands/submit.ts when the command runs, so that Nix
 * evaluation, the gRPC client and the reporters are not loaded for `farm --help` and friends.
 */
import type { Writable } from 'node:stream';
import { FarmError, systemClock } from '@farm/common';
import { parseInstallable, type Installable } from '../eval/index.js';
import type { SubmitReporter } from '../progress/reporter.js';
import type { FarmClient } from './coordinator-client.js';
import { parseDuration } from './durations.js';
import { clientIdentity } from './identity.js';
import { chooseReporter } from './reporter-choice.js';
import { runSubmit, type ReporterFactory, type SubmitSettings } from './submit-flow.js';

/** The flags of `farm submit`, as clipanion parsed them. */
export interface SubmitFlags {
  readonly file: string | undefined;
  readonly attrs: readonly string[] | undefined;
  readonly priority: string;
  readonly timeout: string | undefined;
  readonly maxSilentTime: string | undefined;
  readonly printBuildLogs: boolean;
  readonly json: boolean;
  readonly copyBack: boolean;
  readonly noWait: boolean;
  readonly installables: readonly string[];
}

export interface SubmitIo {
  readonly stdout: Writable;
  readonly stderr: Writable;
  readonly env: Readonly<Record<string, string | undefined>>;
}

/** Checks the flags and builds the settings; throws INVALID_ARGUMENT naming the bad flag. */
export function submitSettings(flags: SubmitFlags, env: SubmitIo['env']): SubmitSettings {
  if (flags.noWait && (flags.copyBack || flags.printBuildLogs)) {
    throw new FarmError('INVALID_ARGUMENT', '--no-wait cannot be combined with --copy-back or --print-build-logs');
  }
  const priority = Number(flags.priority);
  if (!Number.isSafeInteger(priority) || Math.abs(priority) > 2 ** 31 - 1) {
    throw new FarmError('INVALID_ARGUMENT', `--priority: '${flags.priority}' is not an integer`);
  }
  const cwd = process.cwd();
  return {
    installables: parseInstallables(flags, cwd),
    priority,
    timeoutMs: flags.timeout !== undefined ? parseDuration(flags.timeout, '--timeout') : 0,
    maxSilentMs: flags.maxSilentTime !== undefined ? parseDuration(flags.maxSilentTime, '--max-silent-time') : 0,
    client: clientIdentity(env),
    printBuildLogs: flags.printBuildLogs,
    copyBack: flags.copyBack,
    noWait: flags.noWait,
    cwd,
  };
}

function parseInstallables(flags: SubmitFlags, cwd: string): Installable[] {
  const attrs = flags.attrs ?? [];
  if (flags.file !== undefined || attrs.length > 0) {
    const file = flags.file ?? 'default.nix';
    const paths = [...attrs, ...flags.installables];
    return (paths.length > 0 ? paths : ['']).map((a) => parseInstallable(a, { file, cwd }));
  }
  if (flags.installables.length === 0) throw new FarmError('INVALID_ARGUMENT', 'nothing to build: name an installable (e.g. .#all), or -f FILE -A ATTR');
  return flags.installables.map((t) => parseInstallable(t, { cwd }));
}

/** Runs the submission with the display the flags and the terminal ask for; the exit status. */
export async function submitAndWatch(client: FarmClient, settings: SubmitSettings, flags: Pick<SubmitFlags, 'json' | 'noWait'>, io: SubmitIo): Promise<number> {
  const { stdout, stderr } = io;
  let reporter: SubmitReporter | undefined;
  let submissionId: string | undefined;
  const makeReporter: ReporterFactory = (model) => {
    reporter = chooseReporter(model, flags.json, io);
    return reporter;
  };
  // Ctrl-C stops watching, not the builds: leave the terminal tidy and say how to cancel.
  const onInterrupt = (): void => {
    reporter?.close();
    if (submissionId !== undefined) stderr.write(`farm submit: stopped watching; ${submissionId} goes on on the farm (\`farm cancel ${submissionId}\` stops it)\n`);
    process.exit(130);
  };
  process.once('SIGINT', onInterrupt);
  try {
    const outcome = await runSubmit(client, settings, makeReporter, systemClock, (id) => {
      submissionId = id;
      if (flags.noWait && !flags.json) stdout.write(`${id}\n`);
    });
    return outcome.exitCode;
  } finally {
    process.off('SIGINT', onInterrupt);
  }
}
