/**
 * The two JetStream streams of the agent protocol, created by the coordinator when it starts
 * (agents retry their publishes until they exist). Idempotent: an existing stream with the same
 * subjects is kept and its limits are brought to ours; one with other subjects is a config error
 * we refuse to paper over (it would swallow or miss farm subjects).
 */
import { FarmError } from '@farm/common';
import { STREAMS } from '@farm/proto';
import { DiscardPolicy, JetStreamApiCodes, JetStreamApiError, RetentionPolicy, StorageType, type JetStreamManager, type StreamConfig } from '@nats-io/jetstream';
import { nanos } from '@nats-io/transport-node';

const DAY_MS = 24 * 60 * 60 * 1000;

/** Contract: FARM_RESULTS file storage, 7 days; FARM_LOGS file storage, 7 days, 8 GiB, discard old. */
type FarmStreamConfig = Partial<StreamConfig> & { name: string; subjects: string[] };

export const FARM_STREAM_CONFIGS: readonly FarmStreamConfig[] = [
  {
    name: STREAMS.results.name,
    subjects: [...STREAMS.results.subjects],
    storage: StorageType.File,
    retention: RetentionPolicy.Limits,
    discard: DiscardPolicy.Old,
    max_age: nanos(7 * DAY_MS),
  },
  {
    name: STREAMS.logs.name,
    subjects: [...STREAMS.logs.subjects],
    storage: StorageType.File,
    retention: RetentionPolicy.Limits,
    discard: DiscardPolicy.Old,
    max_age: nanos(7 * DAY_MS),
    max_bytes: 8 * 1024 * 1024 * 1024,
  },
];

export async function ensureFarmStreams(jsm: JetStreamManager): Promise<void> {
  for (const config of FARM_STREAM_CONFIGS) await ensureStream(jsm, config);
}

async function ensureStream(jsm: JetStreamManager, wanted: FarmStreamConfig): Promise<void> {
  const name = wanted.name;
  for (let attempt = 0; ; attempt++) {
    const existing = await streamInfo(jsm, name);
    if (existing === undefined) {
      try {
        await jsm.streams.add(wanted);
        return;
      } catch (e) {
        // Another coordinator (or a test) created it between our look and our add: look again.
        if (attempt < 2) continue;
        throw e;
      }
    }
    const have = existing.config;
    if (!sameSet(have.subjects ?? [], wanted.subjects ?? [])) {
      throw new FarmError(
        'FAILED_PRECONDITION',
        `JetStream stream ${name} exists with subjects [${(have.subjects ?? []).join(', ')}], expected [${wanted.subjects.join(', ')}]`,
      );
    }
    if (have.max_age !== wanted.max_age || (wanted.max_bytes !== undefined && have.max_bytes !== wanted.max_bytes) || have.discard !== wanted.discard) {
      const { name: _n, storage: _s, retention: _r, ...limits } = wanted;
      await jsm.streams.update(name, limits);
    }
    return;
  }
}

async function streamInfo(jsm: JetStreamManager, name: string) {
  try {
    return await jsm.streams.info(name);
  } catch (e) {
    if (isStreamNotFound(e)) return undefined;
    throw e;
  }
}

export function isStreamNotFound(e: unknown): boolean {
  return e instanceof JetStreamApiError && e.code === JetStreamApiCodes.StreamNotFound;
}

function sameSet(a: readonly string[], b: readonly string[]): boolean {
  return a.length === b.length && a.every((x) => b.includes(x));
}
