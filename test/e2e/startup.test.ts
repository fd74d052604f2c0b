import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { basename, dirname, join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { execa } from 'execa';
import { describe, expect, it } from 'vitest';
import { CLI, ROOT } from '../paths.js';

/**
 * What each command loads before it answers. Commands import the modules that do their work only when they run,
 * and runtimes and evaluators theirs only when used, so that `--help`, `validate` and the dry run start in a
 * fraction of the time a run's libraries take to load (`npm run bench startup` measures it). The CLI is a bundle
 * whose lazy chunks hold the packages it inlines, so what a command loads is read from the chunks it loads.
 */

const REGISTER = join(ROOT, 'test/e2e/module-trace/register.mjs');

/**
 * Libraries a run needs that checking a plan does not: the Docker client, the OpenAI client, the history's
 * database, report tables and charts, and the t quantile of the score intervals (some 400 modules).
 */
const RUN_LIBRARIES = [
  'dockerode',
  'openai',
  'better-sqlite3',
  'cli-table3',
  'chart.js',
  '@stdlib/stats-base-dists-t-quantile',
  'undici',
];

/** The package a module of node_modules belongs to, from its path or URL; undefined outside node_modules. */
function packageOf(path: string): string | undefined {
  return /(?:^|\/)node_modules\/((?:@[^/]+\/)?[^/]+)\//.exec(path)?.[1];
}

/**
 * The packages whose code each file of the bundle holds, keyed by file URL, from the metafile scripts/bundle.mjs
 * writes beside it: the bundle inlines most packages into its chunks, so a loaded chunk stands for every package
 * in it.
 */
function packagesInBundle(): Map<string, string[]> {
  interface Metafile {
    outputs: Record<string, { inputs: Record<string, unknown> }>;
  }
  const meta = JSON.parse(readFileSync(join(dirname(CLI), 'meta.json'), 'utf8')) as Metafile;
  return new Map(
    Object.entries(meta.outputs).map(([output, { inputs }]) => [
      // Chunks lie flat in the bundle's folder (built elsewhere and moved there, which the metafile's paths miss).
      pathToFileURL(join(dirname(CLI), basename(output))).href,
      [...new Set(Object.keys(inputs).flatMap((input) => packageOf(input) ?? []))],
    ]),
  );
}

/**
 * The packages an evalrig command loads, and its result: those bundled into the chunks it loads, and those it
 * loads from node_modules (the packages left out of the bundle).
 */
async function packagesLoaded(
  args: string[],
): Promise<{ packages: Set<string>; chunks: string[]; exitCode?: number; all: string }> {
  const trace = join(mkdtempSync(join(tmpdir(), 'evalrig-startup-')), 'modules.txt');
  writeFileSync(trace, '');
  const result = await execa('node', ['--import', REGISTER, CLI, ...args], {
    cwd: ROOT,
    env: { MODULE_TRACE_FILE: trace },
    reject: false,
    all: true,
  });
  const bundled = packagesInBundle();
  const urls = new Set(readFileSync(trace, 'utf8').split('\n'));
  const chunks = [...urls].filter((url) => bundled.has(url));
  const packages = new Set([
    ...chunks.flatMap((url) => bundled.get(url) ?? []),
    ...[...urls].flatMap((url) => packageOf(url) ?? []),
  ]);
  return { packages, chunks, exitCode: result.exitCode, all: result.all };
}

function expectNone(packages: Set<string>, libraries: string[]): void {
  expect(libraries.filter((library) => packages.has(library))).toEqual([]);
}

describe.concurrent('start-up: what each command loads', () => {
  it.each(['--help', 'plan --help', 'validate --help', 'history --help'])(
    '`evalrig %s` loads no library at all',
    async (commandLine) => {
      const { packages, chunks, exitCode, all } = await packagesLoaded(commandLine.split(' '));
      expect(exitCode, all).toBe(0);
      // The trace follows the bundle: it sees the entry, so an empty list means no library rather than no trace.
      expect(chunks).toContain(pathToFileURL(CLI).href);
      expect([...packages]).toEqual([]);
    },
  );

  it('validate of the demo plan loads the plan language, and none of the libraries of a run', async () => {
    const { packages, exitCode, all } = await packagesLoaded(['validate', 'configs/demo.yaml']);
    expect(exitCode, all).toBe(0);
    // The trace sees packages loaded: the plan needs yaml and zod.
    expect(packages).toContain('yaml');
    expect(packages).toContain('zod');
    expectNone(packages, RUN_LIBRARIES);
  });

  it('validate with a pinned vLLM version starts no process, so it loads no process library either', async () => {
    const { packages, exitCode, all } = await packagesLoaded([
      'validate',
      'configs/demo.yaml',
      '--set',
      'server.vllm_version=0.11.0',
    ]);
    expect(exitCode, all).toBe(0);
    expectNone(packages, [...RUN_LIBRARIES, 'execa']);
  });

  it('validate of a Docker plan reads the version from the image tag without the Docker client', async () => {
    const { packages, exitCode, all } = await packagesLoaded(['validate', 'configs/qwen3-8b-docker.yaml']);
    expect(exitCode, all).toBe(0);
    expectNone(packages, [...RUN_LIBRARIES, 'execa']);
  });

  it('plan --dry-run shows the run without loading what would run it', async () => {
    const { packages, exitCode, all } = await packagesLoaded([
      'plan',
      'configs/qwen3-8b-docker.yaml',
      '--dry-run',
    ]);
    expect(exitCode, all).toBe(0);
    expect(all).toContain('docker run');
    expectNone(packages, [...RUN_LIBRARIES, 'execa']);
  });

  it('the trace does see a run library where a command needs one', async () => {
    // `compare` renders its table with cli-table3: loaded once the command runs, even when it then fails.
    const { packages, exitCode } = await packagesLoaded(['compare', 'no-such-run-a', 'no-such-run-b']);
    expect(exitCode).toBe(2);
    expect(packages).toContain('cli-table3');
  });
});
