/**
 * What a Nix 2.8 client asks an HTTP binary cache for (client-runs/http-binary-cache-requests.log,
 * recorded by tools/regenerate.sh serving the xz cache of binary-cache.json with python's
 * http.server while `nix copy --from http://127.0.0.1:18777 … c.txt` ran). This is the contract
 * the farm's cache server must answer: GET /nix-cache-info, HEAD then GET <hash>.narinfo,
 * GET <hash>.narinfo for every path of the closure, then GET each NAR at its narinfo URL, a
 * path's NAR only after its references' NARs.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { narInfoFileName, parseNarInfo, parseStorePath, type NarInfo } from '../src/index.js';
import { readBinaryCacheVectors } from './binary-cache-vectors.js';
import { readVectorText } from './vectors.js';

interface Request {
  method: string;
  target: string;
  status: number;
}

function parseLog(text: string): { port: number; requests: Request[] } {
  const lines = text.split('\n').filter((l) => l !== '');
  const banner = /^Serving HTTP on 127\.0\.0\.1 port (\d+) /.exec(lines[0] ?? '');
  assert.ok(banner, 'the log starts with the http.server banner');
  const requests = lines.slice(1).map((l) => {
    const m = /^127\.0\.0\.1 - - \[[^\]]+\] "(GET|HEAD) (\S+) HTTP\/1\.1" (\d{3}) -$/.exec(l);
    assert.ok(m, `request line: ${l}`);
    return { method: m[1]!, target: m[2]!, status: Number(m[3]) };
  });
  return { port: Number(banner[1]), requests };
}

const { port, requests } = parseLog(readVectorText('client-runs/http-binary-cache-requests.log'));
const xz = readBinaryCacheVectors().caches.xz.narinfos.map((e) => ({ file: e.file, info: parseNarInfo(e.narinfo) }));
const byPath = new Map<string, NarInfo>(xz.map((e) => [e.info.path, e.info]));

/** The command regenerate.sh ran against the server: which path was copied. */
function copiedPath(): string {
  const script = readVectorText('tools/regenerate.sh');
  const serve = /python3 -m http\.server (\d+) --bind 127\.0\.0\.1/.exec(script);
  assert.ok(serve, 'regenerate.sh serves the cache with http.server');
  assert.equal(Number(serve[1]), port, 'the log is from that server');
  assert.match(script, /\(cd cache\/xz && exec python3 -m http\.server/, 'it serves the xz cache');
  const copy = new RegExp(`copy --from http://127\\.0\\.0\\.1:${port} --to \\S+\\s*\\\\?\\s*--option trusted-public-keys "\\$\\(cat cache/rfc8032-test1\\.pub\\)" (/nix/store/\\S+)`).exec(script);
  assert.ok(copy, 'regenerate.sh copies one path from the HTTP cache with the test key trusted');
  return copy[1]!;
}

function closure(root: string): string[] {
  const seen = new Set<string>();
  const visit = (p: string): void => {
    if (seen.has(p)) return;
    seen.add(p);
    const info = byPath.get(p);
    assert.ok(info, `${p} is in the cache`);
    info.references.forEach(visit);
  };
  visit(root);
  return [...seen];
}

test('every request succeeded and used only GET and HEAD', () => {
  assert.equal(requests.length, 11);
  for (const r of requests) {
    assert.equal(r.status, 200, `${r.method} ${r.target}`);
    assert.ok(r.method === 'GET' || r.method === 'HEAD');
  }
});

test('the client first fetches /nix-cache-info, then checks the requested path with HEAD before GETting its narinfo', () => {
  const root = copiedPath();
  assert.deepEqual(requests[0], { method: 'GET', target: '/nix-cache-info', status: 200 });
  const rootNarinfo = `/${narInfoFileName(root)}`;
  const firstGet = requests.findIndex((r) => r.method === 'GET' && r.target === rootNarinfo);
  assert.ok(firstGet > 0);
  const heads = requests.slice(1, firstGet);
  assert.ok(heads.length >= 1);
  for (const h of heads) assert.deepEqual([h.method, h.target], ['HEAD', rootNarinfo]);
  assert.equal(requests.filter((r) => r.method === 'HEAD' && r.target !== rootNarinfo).length, 0, 'only the requested path is probed with HEAD');
});

test('the client GETs the narinfo of exactly the closure of the requested path, each once, before any NAR', () => {
  const root = copiedPath();
  const wanted = closure(root).map((p) => `/${parseStorePath(p).hashPart}.narinfo`).sort();
  const narinfoGets = requests.filter((r) => r.method === 'GET' && r.target.endsWith('.narinfo'));
  assert.deepEqual(narinfoGets.map((r) => r.target).sort(), wanted);
  const lastNarinfo = requests.lastIndexOf(narinfoGets.at(-1)!);
  const firstNar = requests.findIndex((r) => r.target.startsWith('/nar/'));
  assert.ok(lastNarinfo < firstNar);
});

test('NARs are fetched at the narinfo URLs, references before referrers', () => {
  const root = copiedPath();
  const narGets = requests.filter((r) => r.target.startsWith('/nar/'));
  const members = closure(root);
  assert.deepEqual(narGets.map((r) => r.method), members.map(() => 'GET'));
  const urlOf = new Map(members.map((p) => [`/${byPath.get(p)!.url}`, p]));
  const fetchedOrder = narGets.map((r) => {
    const p = urlOf.get(r.target);
    assert.ok(p, `${r.target} is the URL of a closure member's narinfo`);
    return p;
  });
  assert.equal(new Set(fetchedOrder).size, members.length);
  for (const [i, p] of fetchedOrder.entries()) {
    assert.ok(r(p).url.endsWith('.nar.xz') && r(p).compression === 'xz');
    for (const ref of byPath.get(p)!.references) if (ref !== p) assert.ok(fetchedOrder.indexOf(ref) < i, `${ref} before ${p}`);
  }
});

function r(p: string): NarInfo {
  return byPath.get(p)!;
}
