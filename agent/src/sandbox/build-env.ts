/**
 * The builder's environment exactly as Nix 2.8 builds it (LocalDerivationGoal::initEnv and
 * initTmpDir in src/libstore/build/local-derivation-goal.cc), for a sandboxed build whose build
 * directory is /build:
 *   PATH=/path-not-set, HOME=/homeless-shelter, NIX_STORE, NIX_BUILD_CORES, then the derivation's
 *   env (passAsFile attributes become `<name>Path` pointing at a file in the build dir), then
 *   NIX_BUILD_TOP/TMPDIR/TEMPDIR/TMP/TEMP/PWD=/build (these override the derivation), then for
 *   fixed-output derivations NIX_OUTPUT_CHECKED=1 and the host's values of the variables named in
 *   `impureEnvVars` ("" when unset), then NIX_LOG_FD=2 and TERM=xterm-256color.
 * Later assignments win, as in Nix. Structured attributes (`__json`) are not supported yet and
 * are refused by the caller.
 */
import { Hash } from '@farm/nix';

export const SANDBOX_BUILD_DIR = '/build';
export const SANDBOX_STORE_DIR = '/nix/store';
export const HOMELESS_SHELTER = '/homeless-shelter';

export interface BuildEnvInput {
  readonly drvEnv: ReadonlyMap<string, string>;
  readonly cores: number;
  readonly fixedOutput: boolean;
  /** Where a fixed-output derivation's `impureEnvVars` are looked up (the agent's environment). */
  readonly impureEnv?: ((name: string) => string | undefined) | undefined;
}

export interface BuildEnv {
  readonly env: Map<string, string>;
  /** Files to write into the build dir before starting (passAsFile): name → contents. */
  readonly files: Map<string, string>;
}

/** `.attr-<nix32 sha256 of the attribute name>`, the file name Nix uses for passAsFile. */
export function passAsFileName(attr: string): string {
  return `.attr-${Hash.of('sha256', attr).nix32}`;
}

export function makeBuildEnv(input: BuildEnvInput): BuildEnv {
  const env = new Map<string, string>();
  const files = new Map<string, string>();
  env.set('PATH', '/path-not-set');
  env.set('HOME', HOMELESS_SHELTER);
  env.set('NIX_STORE', SANDBOX_STORE_DIR);
  env.set('NIX_BUILD_CORES', String(input.cores));
  const passAsFile = new Set((input.drvEnv.get('passAsFile') ?? '').split(/[ \t\n\r]+/).filter((s) => s !== ''));
  for (const [name, value] of input.drvEnv) {
    if (!passAsFile.has(name)) {
      env.set(name, value);
      continue;
    }
    const file = passAsFileName(name);
    files.set(file, value);
    env.set(`${name}Path`, `${SANDBOX_BUILD_DIR}/${file}`);
  }
  for (const v of ['NIX_BUILD_TOP', 'TMPDIR', 'TEMPDIR', 'TMP', 'TEMP', 'PWD']) env.set(v, SANDBOX_BUILD_DIR);
  if (input.fixedOutput) {
    env.set('NIX_OUTPUT_CHECKED', '1');
    // Only fixed-output builds may see these (proxy settings for fetchers): their output is
    // checked against a known hash anyway.
    for (const name of (input.drvEnv.get('impureEnvVars') ?? '').split(/[ \t\n\r]+/).filter((s) => s !== '')) {
      env.set(name, input.impureEnv?.(name) ?? '');
    }
  }
  env.set('NIX_LOG_FD', '2');
  env.set('TERM', 'xterm-256color');
  return { env, files };
}
