import { test } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { mkdtempSync, readdirSync, readFileSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, relative } from 'node:path';
import { fileURLToPath } from 'node:url';

const protoDir = fileURLToPath(new URL('../../', import.meta.url));

function files(dir: string): string[] {
  return readdirSync(dir).flatMap((name) => {
    const full = join(dir, name);
    return statSync(full).isDirectory() ? files(full) : [full];
  });
}

test('the committed generated types match the .proto files (run proto/scripts/gen-types.sh after editing a .proto)', () => {
  const out = mkdtempSync(join(tmpdir(), 'farm-gen-'));
  try {
    execFileSync('bash', [join(protoDir, 'scripts', 'gen-types.sh'), out], { stdio: 'pipe' });
    const committedDir = join(protoDir, 'src', 'generated');
    const fresh = files(out).map((f) => relative(out, f)).sort();
    const committed = files(committedDir).map((f) => relative(committedDir, f)).sort();
    assert.deepEqual(committed, fresh, 'the set of generated files differs');
    for (const f of fresh) {
      assert.equal(readFileSync(join(committedDir, f), 'utf8'), readFileSync(join(out, f), 'utf8'), `${f} is stale`);
    }
  } finally {
    rmSync(out, { recursive: true, force: true });
  }
});
