/**
 * Where the CLI finds the coordinator. Order (first that applies wins):
 *   1. `--coordinator host:port`;
 *   2. the `FARM_COORDINATOR` environment variable;
 *   3. `address.json` in `--state-dir`, else in the default state dir (written by `farm up`);
 *   4. otherwise an error telling how to start or name a farm.
 * The default state dir is `$FARM_STATE_DIR`, else `$XDG_STATE_HOME/farm`, else
 * `~/.local/state/farm`. Each result says how it was found, so that an unreachable address can
 * be reported together with where it came from.
 */
import { mkdirSync, readFileSync, renameSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { FarmError } from '@farm/common';

export const ADDRESS_FILE = 'address.json';

import { defaultStateDir, type Env } from './state-dir.js';

export { defaultStateDir, type Env };

/** What `farm up` records for clients. */
export interface AddressFile {
  /** gRPC `host:port` of the coordinator. */
  readonly grpc: string;
  /** NATS URL agents connect to. */
  readonly nats: string;
  readonly pid: number;
  /** ISO timestamp. */
  readonly startedAt: string;
  /** The Nix door: its local socket (farm-nix-stdio), SSH host:port, binary cache URL. */
  readonly door?: string;
  readonly ssh?: string;
  readonly cache?: string;
  /** The operator endpoint: the dashboard at `/`, Prometheus metrics at `/metrics`. */
  readonly ops?: string;
  /** Each local agent's Prometheus endpoint, by agent name. */
  readonly agentMetrics?: Readonly<Record<string, string>>;
}

/** Writes `<stateDir>/address.json` atomically (temp file + rename), creating the dir. */
export function writeAddressFile(stateDir: string, info: AddressFile): void {
  mkdirSync(stateDir, { recursive: true });
  const target = join(stateDir, ADDRESS_FILE);
  const temp = `${target}.${process.pid}.tmp`;
  writeFileSync(temp, `${JSON.stringify(info)}\n`, { mode: 0o644 });
  renameSync(temp, target);
}

/** `<stateDir>/address.json`, or undefined if there is none; a malformed file is INVALID_CONFIG. */
export function readAddressFile(stateDir: string): AddressFile | undefined {
  const file = join(stateDir, ADDRESS_FILE);
  let text: string;
  try {
    text = readFileSync(file, 'utf8');
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code === 'ENOENT') return undefined;
    throw new FarmError('INVALID_CONFIG', `cannot read ${file}: ${(e as Error).message}`, { file }, { cause: e });
  }
  let parsed: unknown;
  try {
    parsed = JSON.parse(text);
  } catch (e) {
    throw new FarmError('INVALID_CONFIG', `${file} is not JSON: ${(e as Error).message}`, { file }, { cause: e });
  }
  const o = parsed as Partial<Record<keyof AddressFile, unknown>>;
  if (typeof o !== 'object' || o === null || typeof o.grpc !== 'string' || o.grpc === '') {
    throw new FarmError('INVALID_CONFIG', `${file} has no "grpc" address`, { file });
  }
  return {
    grpc: o.grpc,
    nats: typeof o.nats === 'string' ? o.nats : '',
    pid: typeof o.pid === 'number' ? o.pid : 0,
    startedAt: typeof o.startedAt === 'string' ? o.startedAt : '',
    ...(typeof o.door === 'string' ? { door: o.door } : {}),
    ...(typeof o.ssh === 'string' ? { ssh: o.ssh } : {}),
    ...(typeof o.cache === 'string' ? { cache: o.cache } : {}),
    ...(typeof o.ops === 'string' ? { ops: o.ops } : {}),
    ...(isStringRecord(o.agentMetrics) ? { agentMetrics: o.agentMetrics } : {}),
  };
}

function isStringRecord(v: unknown): v is Record<string, string> {
  return typeof v === 'object' && v !== null && !Array.isArray(v) && Object.values(v).every((x) => typeof x === 'string');
}

export interface DiscoveryInput {
  /** `--coordinator`. */
  readonly flag?: string | undefined;
  /** `--state-dir`. */
  readonly stateDir?: string | undefined;
  readonly env?: Env;
}

export interface CoordinatorAddress {
  readonly address: string;
  readonly source: 'flag' | 'env' | 'address-file';
  /** How it was found, for messages: "from --coordinator", "from /x/address.json (farm up pid 12)". */
  readonly origin: string;
  /** The pid `farm up` recorded, when found through address.json. */
  readonly pid?: number;
}

export const NO_FARM_MESSAGE = 'no farm found: start one with `farm up` or pass --coordinator';

export function discoverCoordinator(input: DiscoveryInput = {}): CoordinatorAddress {
  const env = input.env ?? process.env;
  if (input.flag !== undefined && input.flag !== '') {
    return { address: checkAddress(input.flag, '--coordinator'), source: 'flag', origin: 'from --coordinator' };
  }
  const fromEnv = env['FARM_COORDINATOR'];
  if (fromEnv !== undefined && fromEnv !== '') {
    return { address: checkAddress(fromEnv, 'FARM_COORDINATOR'), source: 'env', origin: 'from FARM_COORDINATOR' };
  }
  const stateDir = input.stateDir !== undefined && input.stateDir !== '' ? input.stateDir : defaultStateDir(env);
  const file = readAddressFile(stateDir);
  if (file === undefined) {
    throw new FarmError('UNAVAILABLE', `${NO_FARM_MESSAGE} (looked for ${join(stateDir, ADDRESS_FILE)})`, { stateDir });
  }
  const path = join(stateDir, ADDRESS_FILE);
  const started = file.startedAt !== '' ? `, started ${file.startedAt}` : '';
  return {
    address: checkAddress(file.grpc, path),
    source: 'address-file',
    origin: `from ${path} (farm up pid ${file.pid}${started})`,
    ...(file.pid > 0 ? { pid: file.pid } : {}),
  };
}

/** `host:port` (host may be `[v6]`); anything else is INVALID_ARGUMENT naming where it came from. */
function checkAddress(address: string, where: string): string {
  const trimmed = address.trim();
  if (!/^(\[[0-9a-fA-F:.]+\]|[A-Za-z0-9._-]+):\d{1,5}$/.test(trimmed)) {
    throw new FarmError('INVALID_ARGUMENT', `${where}: '${address}' is not a host:port address`, { address });
  }
  return trimmed;
}

/** Whether a process with this pid exists (used to say that a recorded `farm up` is gone). */
export function processAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (e) {
    return (e as NodeJS.ErrnoException).code === 'EPERM';
  }
}
