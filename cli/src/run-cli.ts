/**
 * The farm CLI proper (main.ts loads it once the compile cache is on).
 */
import { createCli } from './app.js';
import { routeGroupHelp } from './commands/group-help.js';

// `farm logs … | head` closes stdout early: that is the reader's choice, not an error.
process.stdout.on('error', (e: NodeJS.ErrnoException) => {
  if (e.code === 'EPIPE') process.exit(process.exitCode ?? 0);
  throw e;
});

const cli = createCli();
process.exitCode = await cli.run(routeGroupHelp(process.argv.slice(2)));
