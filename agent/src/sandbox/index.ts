export * from './sandbox-paths.js';
export * from './build-env.js';
export * from './etc-files.js';
export { bwrapArguments, type SandboxLayout, type BwrapCommandLine } from './bwrap.js';
export { runSandboxed, type SandboxExit, type KillReason, type RunSandboxedOptions } from './run-sandboxed.js';
