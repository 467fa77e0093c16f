/**
 * Which face of the progress reporter a following command shows (`farm submit`, `farm retry`):
 * JSON lines on stdout with --json, the live view on a terminal, one line per change otherwise
 * (a pipe, a log file, TERM=dumb).
 */
import type { Writable } from 'node:stream';
import { systemClock } from '@farm/common';
import { JsonReporter } from '../progress/json-reporter.js';
import type { ProgressModel } from '../progress/model.js';
import { PlainReporter } from '../progress/plain-reporter.js';
import type { SubmitReporter } from '../progress/reporter.js';
import { TtyReporter } from '../progress/tty-reporter.js';

export interface ReporterIo {
  readonly stdout: Writable;
  readonly stderr: Writable;
  readonly env: Readonly<Record<string, string | undefined>>;
}

export function chooseReporter(model: ProgressModel, json: boolean, io: ReporterIo): SubmitReporter {
  if (json) return new JsonReporter(io.stdout);
  const isTty = (io.stderr as { isTTY?: boolean }).isTTY === true && io.env['TERM'] !== 'dumb';
  return isTty ? new TtyReporter(io.stdout, io.stderr, model, systemClock) : new PlainReporter(io.stdout, io.stderr, model, systemClock);
}
