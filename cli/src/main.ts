#!/usr/bin/env node
/**
 * The `farm` binary. It turns on Node's on-disk compile cache before anything else is loaded
 * (so it has to import the CLI dynamically: static imports would load first): every farm
 * command, and every agent `farm up` starts, then skips re-compiling grpc-js, protobufjs and
 * our own modules — about 0.1 s of each `farm submit`. The cache lives in Node's default place
 * (a directory under the OS temp dir; NODE_COMPILE_CACHE moves it, NODE_DISABLE_COMPILE_CACHE=1
 * turns it off) and is only an optimisation: Node ignores a cache it cannot read or write.
 */
import module from 'node:module';

module.enableCompileCache?.();
await import('./run-cli.js');
