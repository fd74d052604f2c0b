/**
 * The layers of src/, lowest first: a module may import its own layer and the layers below it, never above.
 * docs/architecture.md draws the same picture. `npm run lint` checks it.
 */
const LAYERS = [
  ['errors', '^src/errors\\.ts$'],
  ['util', '^src/util/'],
  ['plan', '^src/plan/'],
  ['vllm', '^src/vllm/'],
  ['datasets', '^src/datasets/'],
  // server and host share a layer and know nothing of each other: the runtime describes what it needs from the
  // host (util/host-needs.ts), and run/ hands that to the preflight.
  ['server', '^src/server/'],
  ['host', '^src/host/'],
  ['eval', '^src/eval/'],
  // The run history and its gates: the run records into it and judges with it, the report and commands read it.
  ['history', '^src/history/'],
  ['run', '^src/run/'],
  ['report', '^src/report/'],
  ['notify', '^src/notify/'],
  ['commands', '^src/commands/'],
  ['cli', '^src/cli\\.ts$'],
];
const SAME_LAYER = new Set(['server', 'host']);

function above(index) {
  const [name] = LAYERS[index];
  const higher = LAYERS.slice(index + 1).filter(
    ([other]) => !(SAME_LAYER.has(name) && SAME_LAYER.has(other)),
  );
  return higher.map(([, path]) => path);
}

const layerRules = LAYERS.map(([name, path], index) => ({
  name: `layer-${name}`,
  comment: `${name} imports only its own layer and those below it (docs/architecture.md)`,
  severity: 'error',
  from: { path },
  to: {
    path: [
      ...above(index),
      ...(name === 'server' ? ['^src/host/'] : name === 'host' ? ['^src/server/'] : []),
    ],
  },
})).filter((rule) => rule.to.path.length > 0);

/**
 * A runtime folder is reached only through server/registry.ts: nothing else branches on the runtime, and runtimes
 * do not use each other. A new runtime is one more name here.
 */
const RUNTIMES = ['local', 'docker', 'external', 'slurm'];
const runtimeFolderRules = RUNTIMES.map((runtime) => ({
  name: `runtime-${runtime}-behind-registry`,
  comment: `src/server/${runtime}/ is used only by itself and src/server/registry.ts`,
  severity: 'error',
  from: { path: '^src/', pathNot: ['^src/server/registry\\.ts$', `^src/server/${runtime}/`] },
  to: { path: `^src/server/${runtime}/` },
}));

module.exports = {
  forbidden: [
    ...layerRules,
    {
      name: 'no-cycles',
      comment: 'no import cycle, within a folder or across folders, in evalrig or its simulator',
      severity: 'error',
      from: { path: '^(src|sim)/' },
      to: { circular: true },
    },
    ...runtimeFolderRules,
    {
      name: 'simulator-apart',
      comment: 'the vLLM simulator is its own program: it imports nothing of src/, and src/ nothing of it',
      severity: 'error',
      from: { path: '^sim/' },
      to: { path: '^src/' },
    },
    {
      name: 'src-not-from-sim',
      severity: 'error',
      from: { path: '^src/' },
      to: { path: '^sim/' },
    },
  ],
  options: {
    doNotFollow: { path: 'node_modules' },
    tsPreCompilationDeps: true,
    tsConfig: { fileName: 'tsconfig.json' },
    enhancedResolveOptions: {
      exportsFields: ['exports'],
      conditionNames: ['import', 'require', 'node', 'default'],
    },
  },
};
