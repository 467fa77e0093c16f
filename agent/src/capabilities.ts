/**
 * What this host can build, advertised to the coordinator in Nix's machine terms (spec §8.1):
 * systems, supported features, mandatory features. Detection is pure over an injected probe
 * so it is testable; the agent's main passes a probe that looks at the real host.
 */
import { chooseEmulators, type BinfmtEntry, type EmulationSetting, type Emulator } from './emulation.js';

export interface HostProbe {
  /** Node's process.arch and process.platform. */
  readonly arch: string;
  readonly platform: string;
  /** The full path of an executable of that name on PATH, if there is one. */
  findProgram(name: string): string | undefined;
  /** True when /dev/kvm is usable (Nix then offers the `kvm` feature). */
  readonly hasKvm?: boolean;
  /** Enabled binfmt_misc entries (emulation.ts). */
  readonly binfmt?: readonly BinfmtEntry[];
}

/**
 * Nix's own default `system-features` (getDefaultSystemFeatures in Nix 2.8): every local Nix
 * offers these, so derivations that require them (`big-parallel` is common in nixpkgs) build on
 * a plain machine; the farm's agents offer the same by default.
 */
export const NIX_DEFAULT_FEATURES: readonly string[] = ['nixos-test', 'benchmark', 'big-parallel'];

/**
 * Toolchain features: offered when the host has the compiler, whose files the examples' builders
 * reach through the sandbox paths (/usr). `cross-aarch64` only where aarch64 is not native.
 */
const TOOLCHAIN_FEATURES: readonly { readonly feature: string; readonly program: string; readonly notOn?: string }[] = [
  { feature: 'musl', program: 'musl-gcc' },
  { feature: 'cross-aarch64', program: 'aarch64-linux-gnu-gcc', notOn: 'aarch64-linux' },
];

export interface Capabilities {
  readonly systems: readonly string[];
  readonly supportedFeatures: readonly string[];
  readonly mandatoryFeatures: readonly string[];
}

/** Capabilities as detected, with how each emulated system is run. */
export interface DetectedCapabilities extends Capabilities {
  readonly emulators: readonly Emulator[];
}

const NIX_ARCH: Readonly<Record<string, string>> = { x64: 'x86_64', arm64: 'aarch64', ia32: 'i686', riscv64: 'riscv64' };

export function nativeSystem(arch: string, platform: string): string {
  const cpu = NIX_ARCH[arch];
  if (cpu === undefined) throw new Error(`unsupported CPU architecture '${arch}'`);
  const os = platform === 'darwin' ? 'darwin' : platform === 'linux' ? 'linux' : undefined;
  if (os === undefined) throw new Error(`unsupported platform '${platform}'`);
  return `${cpu}-${os}`;
}

/**
 * The native system, then the systems emulation gives (`emulation`: see chooseEmulators), and
 * Nix's default features plus `kvm` and the toolchain features the host provides.
 */
export function detectCapabilities(probe: HostProbe, emulation: EmulationSetting = 'auto'): DetectedCapabilities {
  const native = nativeSystem(probe.arch, probe.platform);
  const emulators = probe.platform === 'linux' ? chooseEmulators(emulation, { nativeSystem: native, binfmt: probe.binfmt ?? [], findProgram: (n) => probe.findProgram(n) }) : [];
  const features: string[] = [...NIX_DEFAULT_FEATURES];
  if (probe.hasKvm === true) features.push('kvm');
  for (const t of TOOLCHAIN_FEATURES) if (t.notOn !== native && probe.findProgram(t.program) !== undefined) features.push(t.feature);
  return { systems: [native, ...emulators.map((e) => e.system)], supportedFeatures: features, mandatoryFeatures: [], emulators };
}
