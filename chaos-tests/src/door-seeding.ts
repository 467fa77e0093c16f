/**
 * Seeds the farm store through the Nix door itself, as a Nix client copying paths would
 * (`nix copy --to ssh-ng://`): one worker session asks QueryValidPaths for the closure, a
 * second uploads the missing paths, references first, with one AddMultipleToStore. The door
 * verifies every upload (NAR hash and size, content address, references valid), so a seed that
 * does not match what Nix's server held is refused rather than silently planted.
 */
import {
  concatBytes,
  encodeWorkerClientMagic,
  encodeWorkerClientSettings,
  encodeWorkerClientVersion,
  encodeWorkerRequest,
  WORKER_PROTOCOL_VERSION,
  type WorkerRequest,
} from '@farm/nix';
import { runDoorSession } from './door-session.js';
import { decodeWorkerAnswers } from './nix-transcripts.js';
import { uploadInfo, type PathCatalog } from './path-catalog.js';

const V = WORKER_PROTOCOL_VERSION;

async function workerSession(requests: readonly WorkerRequest[], env: NodeJS.ProcessEnv, timeoutMs: number) {
  const input = concatBytes([...encodeWorkerClientMagic(), ...encodeWorkerClientVersion(V), ...encodeWorkerClientSettings({ reserveSpace: false }, V), ...requests.flatMap((r) => encodeWorkerRequest(r, V))]);
  const run = await runDoorSession('worker', input, env, timeoutMs);
  if (run.hung) throw new Error(`seeding session hung:\n${run.stderr}`);
  const answers = await decodeWorkerAnswers(run.stdout, requests, V);
  const failed = answers.responses.find((r) => r.error !== undefined);
  if (run.code !== 0 || answers.endedAt !== undefined || failed !== undefined) {
    throw new Error(`seeding session failed (exit ${run.code}): ${failed?.error?.message ?? answers.decodeError ?? ''}\n${run.stderr}`);
  }
  return answers.responses;
}

/** Makes `paths` (and their closure) valid in the farm store; returns the paths it uploaded, in order. */
export async function seedThroughDoor(catalog: PathCatalog, paths: readonly string[], env: NodeJS.ProcessEnv, timeoutMs = 30_000): Promise<string[]> {
  if (paths.length === 0) return [];
  const closure = catalog.closureInOrder(paths);
  const [query] = await workerSession([{ op: 'QueryValidPaths', paths: closure.map((e) => e.path), substitute: false }], env, timeoutMs);
  const valid = new Set(query?.reply?.op === 'QueryValidPaths' ? query.reply.paths : []);
  const missing = closure.filter((e) => !valid.has(e.path));
  if (missing.length === 0) return [];
  await workerSession([{ op: 'AddMultipleToStore', repair: false, dontCheckSigs: true, items: missing.map((e) => ({ info: uploadInfo(e), nar: e.nar })) }], env, timeoutMs);
  return missing.map((e) => e.path);
}
