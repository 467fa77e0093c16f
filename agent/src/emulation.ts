/**
 * Emulated systems: how an agent runs builders of a system its CPU does not execute, with
 * qemu-user. Two ways, as on NixOS (`boot.binfmt.emulatedSystems`) and beyond it:
 * - binfmt: the kernel has a binfmt_misc entry for the system's ELF files, so executing one runs
 *   its interpreter transparently, for the builder and every process it starts. With the entry's
 *   F flag the kernel opened the interpreter when it was registered and it works in any mount
 *   namespace; without it the interpreter must be visible inside the sandbox at its path.
 * - qemu: no binfmt entry, but `qemu-<cpu>-static` is installed: a builder that is an ELF file of
 *   the system is started explicitly as `qemu-<cpu>-static <builder> <args…>`. Processes it
 *   starts itself are not emulated (the kernel cannot run them), so only self-contained
 *   builders work this way; a builder the host runs natively (a shell script, `/bin/sh`) runs as
 *   is.
 * Pure: the probe that reads /proc/sys/fs/binfmt_misc and PATH is in daemon/host-probe.ts.
 */

/** A system qemu-user can emulate, and how to recognise its executables. */
export interface EmulatedCpu {
  readonly system: string;
  /** The qemu-user binary's suffix: qemu-<qemu>-static. */
  readonly qemu: string;
  /** ELF e_machine. */
  readonly elfMachine: number;
  /** ELFCLASS64. */
  readonly elf64: boolean;
}

/** The systems an agent knows how to emulate (Nix's names). */
export const EMULATED_CPUS: readonly EmulatedCpu[] = [{ system: 'aarch64-linux', qemu: 'aarch64', elfMachine: 183, elf64: true }];

export type EmulationMode = 'binfmt' | 'qemu';

/** How this agent runs one emulated system's builders. */
export interface Emulator {
  readonly system: string;
  readonly mode: EmulationMode;
  /** binfmt: the entry's interpreter; qemu: the qemu-<cpu>-static binary (host paths). */
  readonly interpreter: string;
  /** binfmt only: the entry has the F flag (the interpreter need not be visible in the sandbox). */
  readonly fixBinary: boolean;
  readonly elfMachine: number;
  readonly elf64: boolean;
}

/** One enabled binfmt_misc entry, as /proc/sys/fs/binfmt_misc/<name> describes it. */
export interface BinfmtEntry {
  readonly name: string;
  readonly interpreter: string;
  readonly flags: string;
  /** The magic and mask, as bytes (offset 0). */
  readonly magic: Uint8Array;
  readonly mask: Uint8Array;
  readonly offset: number;
}

/** The agent config's `emulation`: 'auto' prefers binfmt, then explicit qemu; 'off' emulates nothing. */
export type EmulationSetting = 'auto' | EmulationMode | 'off';

export interface EmulationProbe {
  readonly nativeSystem: string;
  /** Enabled binfmt_misc entries (none when binfmt_misc is not mounted). */
  readonly binfmt: readonly BinfmtEntry[];
  /** Full path of an executable on PATH, if any. */
  findProgram(name: string): string | undefined;
}

/**
 * Parses the text of /proc/sys/fs/binfmt_misc/<name>; undefined for a disabled entry or one
 * matching by extension (`E`), which cannot tell an aarch64 ELF file from any other.
 */
export function parseBinfmtEntry(name: string, text: string): BinfmtEntry | undefined {
  const lines = text.split('\n');
  if (lines[0]?.trim() !== 'enabled') return undefined;
  const field = (key: string) => lines.find((l) => l.startsWith(`${key} `) || l.startsWith(`${key}:`))?.slice(key.length + 1).trim();
  const interpreter = field('interpreter');
  const magicHex = field('magic');
  if (interpreter === undefined || magicHex === undefined || !/^([0-9a-f]{2})+$/.test(magicHex)) return undefined;
  const maskHex = field('mask');
  const magic = Buffer.from(magicHex, 'hex');
  const mask = maskHex !== undefined && /^([0-9a-f]{2})+$/.test(maskHex) ? Buffer.from(maskHex, 'hex') : Buffer.alloc(magic.length, 0xff);
  return { name, interpreter, flags: field('flags') ?? '', magic, mask, offset: Number(field('offset') ?? '0') || 0 };
}

/** The ELF header fields emulation looks at (bytes 0–19 of a file). */
export function elfMachineOf(header: Uint8Array): { readonly machine: number; readonly elf64: boolean } | undefined {
  if (header.length < 20 || header[0] !== 0x7f || header[1] !== 0x45 || header[2] !== 0x4c || header[3] !== 0x46) return undefined;
  const little = header[5] === 1;
  const machine = little ? header[18]! | (header[19]! << 8) : (header[18]! << 8) | header[19]!;
  return { machine, elf64: header[4] === 2 };
}

/** A minimal executable header of the CPU: what its binfmt entry must match. */
function sampleHeader(cpu: EmulatedCpu): Uint8Array {
  const h = new Uint8Array(20);
  h.set([0x7f, 0x45, 0x4c, 0x46, cpu.elf64 ? 2 : 1, 1, 1, 0]);
  h[16] = 2; // ET_EXEC
  h[18] = cpu.elfMachine & 0xff;
  h[19] = cpu.elfMachine >> 8;
  return h;
}

function matches(entry: BinfmtEntry, header: Uint8Array): boolean {
  for (let i = 0; i < entry.magic.length; i++) {
    const b = header[entry.offset + i];
    if (b === undefined || (b & entry.mask[i]!) !== (entry.magic[i]! & entry.mask[i]!)) return false;
  }
  return true;
}

/**
 * The emulators the setting gives on this host, one per emulatable system that is not native.
 * 'auto' takes a binfmt entry when there is one, else qemu-<cpu>-static on PATH, else nothing;
 * 'binfmt' and 'qemu' insist (an error names what is missing); 'off' gives none.
 */
export function chooseEmulators(setting: EmulationSetting, probe: EmulationProbe): Emulator[] {
  if (setting === 'off') return [];
  const chosen: Emulator[] = [];
  for (const cpu of EMULATED_CPUS) {
    if (cpu.system === probe.nativeSystem) continue;
    const entry = probe.binfmt.find((e) => matches(e, sampleHeader(cpu)));
    const qemu = probe.findProgram(`qemu-${cpu.qemu}-static`);
    const base = { system: cpu.system, elfMachine: cpu.elfMachine, elf64: cpu.elf64 };
    if (entry !== undefined && setting !== 'qemu') chosen.push({ ...base, mode: 'binfmt', interpreter: entry.interpreter, fixBinary: entry.flags.includes('F') });
    else if (qemu !== undefined && setting !== 'binfmt') chosen.push({ ...base, mode: 'qemu', interpreter: qemu, fixBinary: false });
    else if (setting === 'binfmt') throw new Error(`binfmt_misc has no enabled entry for ${cpu.system} executables (register qemu-${cpu.qemu}, e.g. with update-binfmts or systemd-binfmt)`);
    else if (setting === 'qemu') throw new Error(`qemu-${cpu.qemu}-static is not on PATH (Debian: apt install qemu-user-static)`);
  }
  return chosen;
}

/** How `farm agents` and the logs say it: "binfmt (/usr/libexec/…)" or "qemu (/usr/bin/…)". */
export function describeEmulator(e: Emulator): string {
  return `${e.mode} (${e.interpreter})`;
}
