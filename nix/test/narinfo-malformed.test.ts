import { test } from 'node:test';
import assert from 'node:assert/strict';
import { NixFormatError, parseNarInfo } from '../src/index.js';
import { readBinaryCacheVectors } from './binary-cache-vectors.js';

// A Nix-written narinfo with Deriver (cap-b) and one with References and CA (c.txt).
const vectors = readBinaryCacheVectors().caches.none.narinfos;
const capB = vectors.find((e) => e.file.startsWith('2970'))!.narinfo;
const cTxt = vectors.find((e) => e.narinfo.includes('-c.txt\n'))!.narinfo;

interface Case {
  readonly name: string;
  readonly text: string;
  /** The field the error must name. */
  readonly field: string;
  /** Text the message must contain. */
  readonly message: RegExp;
}

const drop = (text: string, key: string): string => text.replace(new RegExp(`^${key}: .*\\n`, 'm'), '');
const set = (text: string, key: string, value: string): string => text.replace(new RegExp(`^${key}: .*$`, 'm'), `${key}: ${value}`);

const corpus: Case[] = [
  { name: 'missing StorePath', text: drop(capB, 'StorePath'), field: 'StorePath', message: /no StorePath/ },
  { name: 'missing URL', text: drop(capB, 'URL'), field: 'URL', message: /no URL/ },
  { name: 'missing NarHash', text: drop(capB, 'NarHash'), field: 'NarHash', message: /no NarHash/ },
  { name: 'missing NarSize', text: drop(capB, 'NarSize'), field: 'NarSize', message: /no NarSize/ },
  { name: 'empty URL', text: set(capB, 'URL', ''), field: 'URL', message: /line 2 .*empty/ },
  { name: 'NarSize 0', text: set(capB, 'NarSize', '0'), field: 'NarSize', message: /line 7 .*zero/ },
  { name: 'NarSize negative', text: set(capB, 'NarSize', '-144'), field: 'NarSize', message: /not an unsigned integer/ },
  { name: 'NarSize beyond u64', text: set(capB, 'NarSize', '18446744073709551616'), field: 'NarSize', message: /64 bits/ },
  { name: 'FileSize not a number', text: set(capB, 'FileSize', '12k'), field: 'FileSize', message: /not an unsigned integer/ },
  { name: 'NarHash without type prefix', text: set(capB, 'NarHash', '1wm4l2s41rdx151j6bj5yqzcacasyiy69a9gjf2wxf2qlyipmm08'), field: 'NarHash', message: /line 6/ },
  { name: 'NarHash with a bad nix32 char', text: set(capB, 'NarHash', 'sha256:1wm4l2s41rdx151j6bj5yqzcacasyiy69a9gjf2wxf2qlyipmm0e'), field: 'NarHash', message: /NarHash/ },
  { name: 'NarHash truncated', text: set(capB, 'NarHash', 'sha256:1wm4l2s41rdx151j6bj5yq'), field: 'NarHash', message: /wrong length/ },
  { name: 'FileHash of unknown algo', text: set(capB, 'FileHash', 'sha3:1wm4l2s41rdx151j6bj5yqzcacasyiy69a9gjf2wxf2qlyipmm08'), field: 'FileHash', message: /unknown hash algorithm/ },
  { name: 'StorePath outside the store', text: set(capB, 'StorePath', '/tmp/2970brsi6fgxxb94s3qlkqdgrfw3rjw1-cap-b'), field: 'StorePath', message: /line 1 .*not in the Nix store/ },
  { name: 'StorePath with a bad hash part', text: set(capB, 'StorePath', '/nix/store/2970brsi6fgxxb94s3qlkqdgrfw3rjwe-cap-b'), field: 'StorePath', message: /base name/ },
  { name: 'reference given as a full path', text: set(cTxt, 'References', '/nix/store/h1xv0qjnm4j1557r15pwwn2dziz4iq40-a.txt'), field: 'References', message: /line 8 .*base name/ },
  { name: 'reference with a forbidden character', text: set(cTxt, 'References', 'h1xv0qjnm4j1557r15pwwn2dziz4iq40-a!txt'), field: 'References', message: /forbidden character/ },
  { name: 'reference without a name', text: set(cTxt, 'References', 'h1xv0qjnm4j1557r15pwwn2dziz4iq40'), field: 'References', message: /base name/ },
  { name: 'Deriver given as a full path', text: set(capB, 'Deriver', '/nix/store/gvia8rsrv78shfdbp3xy7s7q1kv0xfv0-cap-b-s1795253759.drv'), field: 'Deriver', message: /line 9/ },
  { name: 'Sig without a key name', text: set(capB, 'Sig', ':' + Buffer.alloc(64).toString('base64')), field: 'Sig', message: /keyName/ },
  { name: 'Sig with a short signature', text: set(capB, 'Sig', 'farm-test-1:' + Buffer.alloc(63).toString('base64')), field: 'Sig', message: /63 bytes, expected 64/ },
  { name: 'Sig that is not base64', text: set(capB, 'Sig', 'farm-test-1:not*base64!'), field: 'Sig', message: /not valid base64/ },
  { name: 'Sig without colon', text: set(capB, 'Sig', 'farm-test-1'), field: 'Sig', message: /keyName/ },
  { name: 'CA of unknown method', text: set(cTxt, 'CA', 'blob:sha256:0c2l7i6b9kbwvhfg3c7qdhcnird94lprwn0mf7v08dcq03fzpyk8'), field: 'CA', message: /text:' or 'fixed:/ },
  { name: 'text CA with sha1', text: set(cTxt, 'CA', 'text:sha1:0c2l7i6b9kbwvhfg3c7qdhcnird94lpr'), field: 'CA', message: /sha256/ },
  { name: 'duplicate StorePath', text: 'StorePath: /nix/store/2970brsi6fgxxb94s3qlkqdgrfw3rjw1-x\n' + capB, field: 'StorePath', message: /more than once/ },
  { name: 'duplicate References', text: cTxt.replace('References: ', 'References: \nReferences: '), field: 'References', message: /more than once/ },
  { name: 'duplicate CA', text: cTxt + cTxt.match(/^CA: .*\n/m)![0], field: 'CA', message: /more than once/ },
  { name: 'no final newline', text: capB.slice(0, -1), field: 'line 10', message: /newline/ },
  { name: 'line without ": "', text: capB.replace('URL: ', 'URL:'), field: 'line 2', message: /Key: value/ },
  { name: 'empty line', text: capB.replace('\nReferences', '\n\nReferences'), field: 'line 8', message: /Key: value/ },
  { name: 'empty input', text: '', field: 'StorePath', message: /no StorePath/ },
  { name: 'binary garbage', text: '\u0000\u0001\u0002\n', field: 'line 1', message: /Key: value/ },
];

test('the malformed narinfo corpus is rejected with BAD_NARINFO errors naming the line and field', () => {
  for (const c of corpus) {
    assert.notEqual(c.text, capB, `${c.name}: the mutation must change the text`);
    assert.throws(
      () => parseNarInfo(c.text),
      (e: unknown) => {
        assert.ok(e instanceof NixFormatError, `${c.name}: ${String(e)}`);
        assert.equal(e.code, 'BAD_NARINFO', `${c.name}: ${e.message}`);
        assert.equal(e.field, c.field, `${c.name}: ${e.message}`);
        assert.match(e.message, c.message, c.name);
        return true;
      },
      c.name,
    );
  }
});

test('errors inside a line carry the byte offset of that line', () => {
  const text = set(capB, 'NarSize', '0');
  const offset = capB.indexOf('NarSize: ');
  assert.throws(() => parseNarInfo(text), (e: unknown) => e instanceof NixFormatError && e.offset === offset);
});

test('the unmutated vectors parse (so the corpus failures come from the mutations)', () => {
  assert.doesNotThrow(() => parseNarInfo(capB));
  assert.doesNotThrow(() => parseNarInfo(cTxt));
  // Tolerated like Nix: repeated spaces between references, several Sig lines, empty CA.
  const info = parseNarInfo(cTxt.replace(/ /g, (m, i: number) => (i > cTxt.indexOf('References: ') + 12 && i < cTxt.indexOf('\nSig') ? '   ' : m)));
  assert.equal(info.references.length, 3);
  assert.equal(parseNarInfo(set(cTxt, 'CA', '')).ca, undefined);
  const sig2 = `other:${Buffer.alloc(64, 1).toString('base64')}`;
  assert.equal(parseNarInfo(cTxt.replace(/^(Sig: .*\n)/m, `$1Sig: ${sig2}\n`)).sigs.length, 2);
});
