/**
 * Every `farm` run registers every command, so what the command modules import at top level is
 * paid by `farm --version` and `farm submit` alike. Commands load their implementations with
 * `await import()` inside execute(); these tests keep it that way, two ways:
 *  - statically: the import graph of cli/dist/src/main.js, following only static imports of our
 *    own files, reaches no package but clipanion, typanion and Node's builtins;
 *  - at run time: a fresh node that imports app.js and calls createCli() has loaded none of the
 *    heavy CommonJS packages (grpc-js, protobufjs, lmdb, nats.js, pino): require.cache is
 *    Node's public record of every CommonJS module loaded, including those an ES module imports.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { existsSync, readFileSync } from 'node:fs';
import { builtinModules } from 'node:module';
import { dirname, relative, resolve } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';

const distSrc = fileURLToPath(new URL('../src/', import.meta.url));
const REGISTRATION_PACKAGES = new Set(['clipanion', 'typanion']);

/** Specifiers of the static imports and re-exports of an emitted ES module (not `import()`). */
function staticSpecifiers(source: string): string[] {
  const specifiers: string[] = [];
  // tsc emits top-level imports and re-exports at the start of a line (a clause of names,
  // braces, commas and `* as x`, then `from`), or `import '…'`; `import type` is erased.
  const statement = /^(?:import|export)\s+(?:[\w$*\s{},]*?\bfrom\s*)?['"]([^'"]+)['"]/gm;
  for (const m of source.matchAll(statement)) specifiers.push(m[1]!);
  return specifiers;
}

function packageOf(specifier: string): string {
  const parts = specifier.split('/');
  return specifier.startsWith('@') ? parts.slice(0, 2).join('/') : parts[0]!;
}

test('the static import graph of the farm binary reaches only clipanion, typanion and builtins', () => {
  const seen = new Set<string>();
  const external = new Map<string, string>(); // package -> a file importing it
  // main.js turns on the compile cache and then imports run-cli.js dynamically: start from both.
  const queue = [resolve(distSrc, 'main.js'), resolve(distSrc, 'run-cli.js')];
  while (queue.length > 0) {
    const file = queue.pop()!;
    if (seen.has(file)) continue;
    seen.add(file);
    for (const spec of staticSpecifiers(readFileSync(file, 'utf8'))) {
      if (spec.startsWith('.')) {
        const target = resolve(dirname(file), spec);
        assert.ok(existsSync(target), `${relative(distSrc, file)} imports missing ${spec}`);
        queue.push(target);
      } else if (!spec.startsWith('node:') && !builtinModules.includes(spec)) {
        if (!external.has(packageOf(spec))) external.set(packageOf(spec), relative(distSrc, file));
      }
    }
  }
  // Sanity: the walk did find the command modules, so an empty result means something.
  assert.ok(seen.has(resolve(distSrc, 'commands/submit.js')), 'the walk did not reach commands/submit.js');
  assert.ok(seen.has(resolve(distSrc, 'commands/up.js')), 'the walk did not reach commands/up.js');
  const heavy = [...external].filter(([pkg]) => !REGISTRATION_PACKAGES.has(pkg)).map(([pkg, from]) => `${pkg} (imported by ${from})`);
  assert.deepEqual(heavy, [], 'command registration must not load implementations: import them inside execute()');
  assert.ok(!seen.has(resolve(distSrc, 'client/coordinator-client.js')), 'the gRPC client is loaded at registration');
});

test('createCli() loads no gRPC, protobuf, LMDB, NATS or pino module', () => {
  const appUrl = pathToFileURL(resolve(distSrc, 'app.js')).href;
  const script = [
    `const { createCli } = await import(${JSON.stringify(appUrl)});`,
    'const cli = createCli();',
    "const { createRequire } = await import('node:module');",
    'const loaded = Object.keys(createRequire(import.meta.url).cache);',
    'console.log(JSON.stringify({ commands: cli.definitions().length, loaded }));',
  ].join('\n');
  const r = spawnSync(process.execPath, ['--input-type=module', '-e', script], { encoding: 'utf8', timeout: 30_000 });
  assert.equal(r.status, 0, r.stderr);
  const { commands, loaded } = JSON.parse(r.stdout) as { commands: number; loaded: string[] };
  assert.ok(commands >= 12, `createCli() registered only ${commands} commands`);
  // Positive control: clipanion (CommonJS) is in the cache, so the cache does record packages.
  assert.ok(loaded.some((f) => f.includes('/node_modules/clipanion/')), 'clipanion not in require.cache: the check would prove nothing');
  const heavy = loaded.filter((f) => /\/node_modules\/(@grpc\/|protobufjs\/|@protobufjs\/|lmdb\/|@lmdb\/|@nats-io\/|pino\/)/.test(f));
  assert.deepEqual(heavy, []);
});
