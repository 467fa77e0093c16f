/**
 * The farm CLI proper (main.ts loads it once the compile cache is on).
 *
 * Tracing: when the standard OTEL_* variables ask for it (telemetry/otel-env.ts), the trace SDK
 * is loaded and registered before the command runs and shut down (its spans exported) after it
 * returns — for the daemons that is after they closed on SIGINT/SIGTERM. Without them nothing
 * of the SDK is loaded and @opentelemetry/api stays a no-op.
 */
import { createCli } from './app.js';
import { routeGroupHelp } from './commands/group-help.js';
import { tracingSettings } from './telemetry/otel-env.js';

// `farm logs … | head` closes stdout early: that is the reader's choice, not an error.
process.stdout.on('error', (e: NodeJS.ErrnoException) => {
  if (e.code === 'EPIPE') process.exit(process.exitCode ?? 0);
  throw e;
});

/** How long exporting the last spans may hold up the exit (a collector that does not answer). */
const TRACES_FLUSH_MS = 10_000;

const args = routeGroupHelp(process.argv.slice(2));
const settings = tracingSettings(process.env, args);
const tracing = settings === undefined ? undefined : await (await import('./telemetry/sdk.js')).startTracing(settings);
const cli = createCli();
process.exitCode = await cli.run(args);
if (tracing !== undefined) {
  let timer: NodeJS.Timeout | undefined;
  const flushed = await Promise.race([tracing.shutdown().then(() => true), new Promise<false>((r) => (timer = setTimeout(() => r(false), TRACES_FLUSH_MS)))]);
  clearTimeout(timer);
  if (!flushed) process.exit(process.exitCode);
}
