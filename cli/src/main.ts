#!/usr/bin/env node
import { createCli } from './app.js';
import { routeGroupHelp } from './commands/group-help.js';

const cli = createCli();
process.exitCode = await cli.run(routeGroupHelp(process.argv.slice(2)));
