/**
 * Import direction, enforced in the test run (npm test → lint:deps):
 *   proto, nix  ←  common  ←  {coordinator, agent, cli}  ←  testkit, chaos-tests, bench
 * The agent never imports the coordinator and vice versa; the coordinator's core/ is pure
 * (no I/O modules); nothing in production code imports the test kit.
 */
const pkg = (name) => `^${name}/`;
const IO_MODULES = '^(node:)?(fs|fs/promises|net|http|https|http2|child_process|dgram|dns|tls|cluster|worker_threads|os|process)$';

module.exports = {
  forbidden: [
    { name: 'no-circular', severity: 'error', from: {}, to: { circular: true } },
    {
      name: 'no-unresolvable',
      comment: 'An import the cruiser cannot resolve would escape every rule below.',
      severity: 'error',
      from: {},
      to: { couldNotResolve: true },
    },
    {
      name: 'nix-is-a-leaf',
      comment: 'nix/ is a pure library of Nix formats: no farm concepts, no other workspace package.',
      severity: 'error',
      from: { path: pkg('nix') },
      to: { path: '^(proto|common|coordinator|agent|cli|testkit|chaos-tests|bench)/' },
    },
    {
      name: 'proto-is-a-leaf',
      severity: 'error',
      from: { path: pkg('proto') },
      to: { path: '^(nix|common|coordinator|agent|cli|testkit|chaos-tests|bench)/' },
    },
    {
      name: 'common-depends-only-on-nix-and-proto',
      severity: 'error',
      from: { path: pkg('common') },
      to: { path: '^(coordinator|agent|cli|testkit|chaos-tests|bench)/' },
    },
    {
      name: 'coordinator-never-imports-agent-or-cli',
      severity: 'error',
      from: { path: pkg('coordinator') },
      to: { path: '^(agent|cli|chaos-tests|bench)/' },
    },
    {
      name: 'agent-never-imports-coordinator-or-cli',
      severity: 'error',
      from: { path: pkg('agent') },
      to: { path: '^(coordinator|cli|chaos-tests|bench)/' },
    },
    {
      name: 'cli-talks-grpc-only',
      comment:
        'The CLI reaches the coordinator and agents over the wire (proto/), not by importing them. ' +
        'Deviation (docs/architecture.md): the daemon commands `farm up`, `farm coordinator` and `farm agent` ' +
        '(cli/src/daemons/ and their command files) start the daemons, so only they may import them.',
      severity: 'error',
      from: { path: pkg('cli'), pathNot: '^cli/src/(daemons/|commands/(up|coordinator|agent)\\.ts$)' },
      to: { path: '^(coordinator|agent|chaos-tests|bench)/' },
    },
    {
      name: 'cli-daemons-never-import-tests',
      severity: 'error',
      from: { path: '^cli/src/(daemons/|commands/(up|coordinator|agent)\\.ts$)' },
      to: { path: '^(chaos-tests|bench)/' },
    },
    {
      name: 'testkit-only-in-tests',
      severity: 'error',
      from: { path: '^(nix|proto|common|coordinator|agent|cli)/src/' },
      to: { path: '^testkit/' },
    },
    {
      name: 'coordinator-core-is-pure',
      comment: 'core/ is pure: no I/O modules and no adapters; time and ids are injected.',
      severity: 'error',
      from: { path: '^coordinator/src/core/' },
      to: { path: [IO_MODULES, '^coordinator/src/adapters/'] },
    },
  ],
  options: {
    doNotFollow: { path: 'node_modules' },
    exclude: { path: '(^|/)(dist|node_modules)/' },
    tsPreCompilationDeps: true,
    tsConfig: { fileName: 'tsconfig.depcruise.json' },
    enhancedResolveOptions: { exportsFields: ['exports'], conditionNames: ['import', 'types', 'default'], extensions: ['.ts', '.js', '.d.ts'] },
    reporterOptions: { text: { highlightFocused: true } },
  },
};
