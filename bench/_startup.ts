/**
 * Start-up time of evalrig's commands: the wall time of the whole process, from spawn to exit, median of several
 * runs after a warm-up (which also fills the vLLM version cache, as any earlier command would have). Commands
 * load what does their work only when they run (docs/architecture.md, Start-up), so help and checking a plan cost
 * little more than Node itself; `node -e 0` is measured alongside for scale.
 */
import { spawn } from 'node:child_process';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { performance } from 'node:perf_hooks';
import type { Figure } from './_figures.js';

const ROOT = resolve(import.meta.dirname, '..');
const CLI = join(ROOT, 'dist/cli/cli.js');
const RUNS = 11;

interface StartupCase {
  name: string;
  args: string[];
  /** Milliseconds, median. */
  target: number;
}

const CASES: StartupCase[] = [
  { name: 'help', args: ['--help'], target: 150 },
  { name: 'command help', args: ['plan', '--help'], target: 150 },
  { name: 'validate', args: ['validate', 'configs/demo.yaml'], target: 250 },
  { name: 'dry run', args: ['plan', '--dry-run', 'configs/demo.yaml'], target: 300 },
];

/** Wall time of one process in ms; rejects when it fails, since a failing command measures nothing. */
function timeProcess(args: string[], env: NodeJS.ProcessEnv): Promise<number> {
  return new Promise((done, fail) => {
    const started = performance.now();
    const child = spawn(process.execPath, args, { cwd: ROOT, env, stdio: 'ignore' });
    child.on('error', fail);
    child.on('exit', (code) => {
      const ms = performance.now() - started;
      if (code === 0) done(ms);
      else fail(new Error(`node ${args.join(' ')} exited with ${code}`));
    });
  });
}

function median(values: number[]): number {
  const sorted = [...values].sort((a, b) => a - b);
  const middle = Math.floor(sorted.length / 2);
  return sorted.length % 2 === 1
    ? (sorted[middle] ?? 0)
    : ((sorted[middle - 1] ?? 0) + (sorted[middle] ?? 0)) / 2;
}

/**
 * Median wall time in ms of each command line, run in rounds (each command once per round, after a warm-up round):
 * a machine whose load changes during the measurement then slows every command alike.
 */
async function medianMs(commandLines: string[][], env: NodeJS.ProcessEnv): Promise<number[]> {
  const times = commandLines.map((): number[] => []);
  for (let round = 0; round <= RUNS; round++) {
    for (const [index, args] of commandLines.entries()) {
      const ms = await timeProcess(args, env);
      if (round > 0) times[index]?.push(ms);
    }
  }
  return times.map((values) => Math.round(median(values)));
}

/**
 * One figure per command, median wall time of `node dist/cli/cli.js <args>` (the bundle; run `npm run build` first), and
 * `node -e 0` measured in the same rounds: the floor no command can go below.
 */
export async function startupFigures(): Promise<{ nodeMs: number; figures: Figure[] }> {
  // A cache of its own: the user's versions neither help nor change the figures.
  const env = { ...process.env, EVALRIG_CACHE: mkdtempSync(join(tmpdir(), 'evalrig-bench-cache-')) };
  const [nodeMs = 0, ...medians] = await medianMs(
    [['-e', '0'], ...CASES.map(({ args }) => [CLI, ...args])],
    env,
  );
  const figures = CASES.map(({ name, target }, index): Figure => {
    return { name, value: medians[index] ?? 0, unit: ' ms', target, kind: 'max' };
  });
  return { nodeMs, figures };
}
