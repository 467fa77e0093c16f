/**
 * Shared helpers for the serve/worker transcript tests: loading `transcripts/*.json`, hex/NAR
 * summaries, and mapping our decoded values to the transcripts' decoded JSON shape so the two can
 * be compared with deepEqual. The NAR `entries` listing in transcripts belongs to the NAR module
 * and is dropped before comparing (narSize, narHashBase16 and the full bytes are compared).
 */
import { createHash } from 'node:crypto';
import { readdirSync } from 'node:fs';
import {
  type BuildResult,
  StreamSource,
  type WireBasicDerivation,
  WireReader,
  buildStatusName,
  concatBytes,
  type ServeBuildSettings,
} from '../src/index.js';
import { readVectorJson, vectorPath } from './vectors.js';

export interface Exchange {
  op: string;
  request: any;
  requestHex: string;
  response: any;
  responseHex: string;
}

export interface Transcript {
  scenario: string;
  protocol: 'serve' | 'worker';
  clientVersion: string;
  serverVersion: string;
  c2sBase64: string;
  s2cBase64: string;
  exchanges: Exchange[];
  unparsedServerBytesHex: string;
  clientDrvFiles?: Record<string, string>;
}

export interface IndexEntry {
  file: string;
  protocol: 'serve' | 'worker';
  ops: string[];
}

export function transcriptIndex(): IndexEntry[] {
  return readVectorJson<IndexEntry[]>('transcripts/index.json');
}

export function transcriptFiles(): string[] {
  return readdirSync(vectorPath('transcripts'))
    .filter((f) => f.endsWith('.json') && f !== 'index.json')
    .map((f) => `transcripts/${f}`)
    .sort();
}

export function loadTranscript(file: string): Transcript {
  return readVectorJson<Transcript>(file);
}

export function b64(s: string): Uint8Array {
  return new Uint8Array(Buffer.from(s, 'base64'));
}

export function hex(bytes: Uint8Array | Uint8Array[]): string {
  return Buffer.from(Array.isArray(bytes) ? concatBytes(bytes) : bytes).toString('hex');
}

export function readerOver(bytes: Uint8Array, pieces = 1): WireReader {
  if (pieces <= 1) return new WireReader(new StreamSource(bytes));
  // Split into uneven pieces so decoders are exercised across chunk boundaries.
  const parts: Uint8Array[] = [];
  const step = Math.max(1, Math.floor(bytes.length / pieces));
  for (let at = 0; at < bytes.length; at += step) parts.push(bytes.subarray(at, at + step));
  return new WireReader(new StreamSource(parts));
}

export function narSummary(nar: Uint8Array): { narSize: number; narHashBase16: string; narBase64: string } {
  return { narSize: nar.length, narHashBase16: createHash('sha256').update(nar).digest('hex'), narBase64: Buffer.from(nar).toString('base64') };
}

/** Deep-copies a transcript value, dropping NAR `entries` listings. */
export function withoutNarEntries<T>(value: T): T {
  return JSON.parse(JSON.stringify(value), (k, v) => (k === 'entries' ? undefined : v)) as T;
}

export const flag = (b: boolean): number => (b ? 1 : 0);

export function derivationShape(d: WireBasicDerivation): unknown {
  return {
    outputs: Object.fromEntries([...d.outputs].map(([k, o]) => [k, { path: o.path, hashAlgo: o.hashAlgo, hash: o.hash }])),
    inputSrcs: [...d.inputSrcs],
    platform: d.system,
    builder: d.builder,
    args: [...d.args],
    env: Object.fromEntries(d.env),
  };
}

export function buildSettingsShape(s: ServeBuildSettings): unknown {
  return {
    maxSilentTime: s.maxSilentTime,
    buildTimeout: s.buildTimeout,
    maxLogSize: s.maxLogSize,
    buildRepeat: s.buildRepeat,
    enforceDeterminism: flag(s.enforceDeterminism),
    keepFailed: flag(s.keepFailed),
  };
}

export function buildResultShape(r: BuildResult): Record<string, unknown> {
  return {
    status: r.status,
    statusName: buildStatusName(r.status),
    errorMsg: r.errorMsg,
    timesBuilt: r.timesBuilt,
    isNonDeterministic: flag(r.isNonDeterministic),
    startTime: r.startTime,
    stopTime: r.stopTime,
    builtOutputs: Object.fromEntries(r.builtOutputs.map((o) => [o.id, JSON.parse(o.realisation)])),
  };
}

/** Frame sizes our writer emits for `n` bytes (≤ 32 KiB each, then the 0 terminator). */
export function frameSizes(n: number): number[] {
  const out: number[] = [];
  for (let left = n; left > 0; left -= Math.min(left, 32768)) out.push(Math.min(left, 32768));
  return [...out, 0];
}

/** Everything left in the reader, as bytes. */
export async function rest(r: WireReader): Promise<Uint8Array> {
  const parts: Uint8Array[] = [];
  while (!(await r.atEnd())) parts.push((await r.readRaw(1)).slice());
  return concatBytes(parts);
}
