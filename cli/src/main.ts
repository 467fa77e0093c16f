#!/usr/bin/env node
import { createCli } from './app.js';

const cli = createCli();
process.exitCode = await cli.run(process.argv.slice(2));
