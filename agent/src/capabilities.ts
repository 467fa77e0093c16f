/**
 * What this host can build, advertised to the coordinator in Nix's machine terms (spec §8.1):
 * systems, supported features, mandatory features. Detection is pure over an injected probe
 * so it is testable; the agent's main passes a probe that looks at the real host.
 */
export interface HostProbe {
  /** Node's process.arch and process.platform. */
  readonly arch: string;
  readonly platform: string;
  /** True when an executable of that name is on PATH. */
  hasProgram(name: string): boolean;
  /** True when /dev/kvm is usable (Nix then offers the `kvm` feature). */
  readonly hasKvm?: boolean;
}

/**
 * Nix's own default `system-features` (getDefaultSystemFeatures in Nix 2.8): every local Nix
 * offers these, so derivations that require them (`big-parallel` is common in nixpkgs) build on
 * a plain machine; the farm's agents offer the same by default.
 */
export const NIX_DEFAULT_FEATURES: readonly string[] = ['nixos-test', 'benchmark', 'big-parallel'];

export interface Capabilities {
  readonly systems: readonly string[];
  readonly supportedFeatures: readonly string[];
  readonly mandatoryFeatures: readonly string[];
}

const NIX_ARCH: Readonly<Record<string, string>> = { x64: 'x86_64', arm64: 'aarch64', ia32: 'i686', riscv64: 'riscv64' };

export function nativeSystem(arch: string, platform: string): string {
  const cpu = NIX_ARCH[arch];
  if (cpu === undefined) throw new Error(`unsupported CPU architecture '${arch}'`);
  const os = platform === 'darwin' ? 'darwin' : platform === 'linux' ? 'linux' : undefined;
  if (os === undefined) throw new Error(`unsupported platform '${platform}'`);
  return `${cpu}-${os}`;
}

/** Detects the native system, qemu-emulated aarch64, and toolchain features. */
export function detectCapabilities(probe: HostProbe): Capabilities {
  const native = nativeSystem(probe.arch, probe.platform);
  const systems = [native];
  if (native === 'x86_64-linux' && probe.hasProgram('qemu-aarch64-static')) systems.push('aarch64-linux');
  const features: string[] = [...NIX_DEFAULT_FEATURES];
  if (probe.hasKvm === true) features.push('kvm');
  if (probe.hasProgram('musl-gcc')) features.push('musl');
  if (native !== 'aarch64-linux' && probe.hasProgram('aarch64-linux-gnu-gcc')) features.push('cross-aarch64');
  return { systems, supportedFeatures: features, mandatoryFeatures: [] };
}
