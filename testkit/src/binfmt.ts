/**
 * binfmt_misc for tests of transparent emulation: makes sure the kernel runs aarch64 ELF files
 * through qemu, registering Debian's entry (/usr/lib/binfmt.d/qemu-aarch64.conf from
 * qemu-user-static, flags OCF/POCF: the kernel holds the interpreter open, so it works inside
 * sandboxes) when no aarch64 entry exists. Needs root; the test machines and CI run as root.
 *
 * The entry stays registered afterwards (it is kernel state shared by every process, and tests
 * running at the same time may rely on it); agents in their default `emulation: auto` then use
 * binfmt instead of starting qemu themselves, which is the point of registering it.
 */
import { execFileSync } from 'node:child_process';
import { existsSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';

const BINFMT_DIR = '/proc/sys/fs/binfmt_misc';
const DEBIAN_CONF = '/usr/lib/binfmt.d/qemu-aarch64.conf';
const AARCH64_MAGIC = '7f454c460201010000000000000000000200b700';

/** The name of an enabled binfmt_misc entry for aarch64 executables, if there is one. */
export function aarch64BinfmtEntry(): string | undefined {
  if (!existsSync(join(BINFMT_DIR, 'register'))) return undefined;
  return readdirSync(BINFMT_DIR).find((name) => {
    if (name === 'register' || name === 'status') return false;
    try {
      const text = readFileSync(join(BINFMT_DIR, name), 'utf8');
      return text.startsWith('enabled') && text.includes(`magic ${AARCH64_MAGIC}`);
    } catch {
      return false;
    }
  });
}

/** Registers qemu-aarch64 with binfmt_misc unless an entry exists; returns the entry's name. Throws saying what is missing. */
export function ensureAarch64Binfmt(): string {
  const existing = aarch64BinfmtEntry();
  if (existing !== undefined) return existing;
  if (!existsSync(DEBIAN_CONF)) throw new Error(`${DEBIAN_CONF} is missing: install qemu-user-static (scripts/apt-packages.txt)`);
  if (!existsSync(join(BINFMT_DIR, 'register'))) execFileSync('mount', ['-t', 'binfmt_misc', 'binfmt_misc', BINFMT_DIR], { stdio: ['ignore', 'ignore', 'pipe'] });
  const line = readFileSync(DEBIAN_CONF, 'utf8')
    .split('\n')
    .find((l) => l.startsWith(':qemu-aarch64:'));
  if (line === undefined) throw new Error(`${DEBIAN_CONF} has no :qemu-aarch64: line`);
  try {
    writeFileSync(join(BINFMT_DIR, 'register'), line);
  } catch (e) {
    // Registered meanwhile by a test running at the same time: fine.
    if (aarch64BinfmtEntry() === undefined) throw e;
  }
  const name = aarch64BinfmtEntry();
  if (name === undefined) throw new Error('registered qemu-aarch64 with binfmt_misc, but no enabled entry shows up');
  return name;
}
