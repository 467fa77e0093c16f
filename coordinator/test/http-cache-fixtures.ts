/**
 * Helpers for the binary cache tests: the real Nix run asynchronously (the cache under test
 * serves from this very process, so a synchronous child would block it), each call with a fresh
 * HOME and XDG_CACHE_HOME (Nix caches narinfo lookups, negative ones for an hour); path infos as
 * Nix reports them; NARs streamed from `nix-store --dump`; raw HTTP requests whose path is sent
 * exactly as written (fetch would normalise `..` and escapes away).
 */
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { mkdtemp } from 'node:fs/promises';
import { request } from 'node:http';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Hash, type PathInfo } from '@farm/nix';

export interface Run {
  readonly code: number | null;
  readonly stdout: string;
  readonly stderr: string;
}

export async function nix(cmd: string, args: readonly string[]): Promise<Run> {
  const home = await mkdtemp(join(tmpdir(), 'farm-cache-home-'));
  const env = { ...process.env, HOME: home, XDG_CACHE_HOME: join(home, '.cache'), XDG_CONFIG_HOME: join(home, '.config') };
  return new Promise((resolve, reject) => {
    const child = spawn(cmd, [...args], { env, stdio: ['ignore', 'pipe', 'pipe'] });
    const out: Buffer[] = [];
    const err: Buffer[] = [];
    child.stdout.on('data', (c: Buffer) => out.push(c));
    child.stderr.on('data', (c: Buffer) => err.push(c));
    const timer = setTimeout(() => child.kill('SIGKILL'), 30_000);
    child.on('error', (e) => {
      clearTimeout(timer);
      reject(e);
    });
    child.on('close', (code) => {
      clearTimeout(timer);
      resolve({ code, stdout: Buffer.concat(out).toString('utf8'), stderr: Buffer.concat(err).toString('utf8') });
    });
  });
}

/** Like `nix` but the command must succeed; returns stdout. */
export async function nixOk(cmd: string, args: readonly string[]): Promise<string> {
  const r = await nix(cmd, args);
  assert.equal(r.code, 0, `${cmd} ${args.join(' ')} failed:\n${r.stderr}`);
  return r.stdout;
}

export const lines = (s: string): string[] => s.split('\n').filter((l) => l !== '');

export async function nixPathInfo(path: string): Promise<PathInfo> {
  const out = await nixOk('nix', ['path-info', '--json', '--extra-experimental-features', 'nix-command', '--option', 'substituters', '', path]);
  const [j] = JSON.parse(out) as Array<{ narHash: string; narSize: number; references: string[]; deriver?: string; ca?: string }>;
  assert.ok(j !== undefined, `nix path-info ${path}`);
  return {
    path,
    narHash: Hash.parse(j.narHash),
    narSize: BigInt(j.narSize),
    references: j.references,
    registrationTime: 0n,
    ultimate: false,
    sigs: [],
    ...(j.deriver !== undefined ? { deriver: j.deriver } : {}),
    ...(j.ca !== undefined ? { ca: j.ca } : {}),
  };
}

/** The NAR of `path` streamed from a real `nix-store --dump` process. */
export async function* dumpStream(path: string): AsyncGenerator<Uint8Array> {
  const child = spawn('nix-store', ['--dump', path], { stdio: ['ignore', 'pipe', 'inherit'] });
  const exited = new Promise<number | null>((resolve) => child.on('close', resolve));
  try {
    for await (const chunk of child.stdout) yield chunk as Buffer;
    assert.equal(await exited, 0, `nix-store --dump ${path}`);
  } finally {
    child.kill('SIGKILL');
  }
}

export interface HttpReply {
  readonly status: number;
  readonly headers: Record<string, string | string[] | undefined>;
  readonly body: Buffer;
}

/** One request with `path` sent verbatim. */
export function http(baseUrl: string, path: string, method = 'GET'): Promise<HttpReply> {
  const { hostname, port } = new URL(baseUrl);
  return new Promise((resolve, reject) => {
    const req = request({ host: hostname, port, path, method, agent: false }, (res) => {
      const chunks: Buffer[] = [];
      res.on('data', (c: Buffer) => chunks.push(c));
      res.on('end', () => resolve({ status: res.statusCode ?? 0, headers: res.headers, body: Buffer.concat(chunks) }));
      res.on('error', reject);
    });
    req.on('error', reject);
    req.end();
  });
}
