import { existsSync, mkdirSync, readdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { execa } from 'execa';
import { describe, expect, it } from 'vitest';
import { waitFor, writeSimPlan } from '../e2e/cli-helpers.js';
import { ROOT } from '../paths.js';

/**
 * scripts/nightly.mjs as a process, running small plans through the real CLI against the vLLM simulator.
 */
const NIGHTLY = join(ROOT, 'scripts/nightly.mjs');

/** A quick plan: the simulator loads in half a second and four questions per subset are asked. */
function quickPlan(sim: Record<string, string> = {}) {
  return writeSimPlan({ eval: { limit: 2 }, sim });
}

/** Old run folders of plan `e2e` under `outDir`, plus things that are not run folders. */
function seedRuns(outDir: string, names: string[]): string {
  const planDir = join(outDir, 'e2e');
  for (const name of names) mkdirSync(join(planDir, name), { recursive: true });
  mkdirSync(join(planDir, 'notes'));
  writeFileSync(join(planDir, 'README.txt'), 'not a run\n');
  return planDir;
}

const escaped = (text: string) => text.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');

function startNightly(args: string[]) {
  return execa(process.execPath, [NIGHTLY, ...args], { reject: false, all: true, env: { CI: '1' } });
}

describe('nightly', () => {
  it('runs every plan, exits with the worst code, and keeps the newest N and the BASELINE run', async () => {
    const ok = quickPlan();
    const failing = quickPlan({ VLLM_SIM_FAULT: 'crash_on_load:cuda_oom' });
    const planDir = seedRuns(ok.outDir, [
      '20200101-000000',
      '20200102-000000',
      '20200103-000000',
      '20200103-000000-2',
    ]);
    writeFileSync(join(planDir, 'BASELINE'), '# pinned by hand\n20200101-000000\n');

    const result = await startNightly([ok.file, failing.file, '--keep', '2']);
    expect(result.exitCode, result.all).toBe(1);
    // Both plans ran, their output streamed through.
    expect(result.all).toContain('CUDA out of memory');
    expect(result.all).toMatch(/Run directory: /);

    const left = readdirSync(planDir).sort();
    const newRun = left.find((name) => /^\d{8}-\d{6}/.test(name) && !name.startsWith('2020'));
    expect(newRun).toBeDefined();
    // The newest two (this run and 20200103-000000-2), the pinned one, and what is not a run folder.
    expect(left).toEqual(
      ['20200101-000000', '20200103-000000-2', 'BASELINE', 'README.txt', newRun, 'notes'].sort(),
    );
    expect(result.all).toContain(`removed ${join(planDir, '20200103-000000')}`);
    expect(result.all).toMatch(
      new RegExp(
        `${escaped(ok.file)} \\(e2e\\): exit 0 success; run ${newRun}; 3 kept \\(1 pinned\\), 2 removed`,
      ),
    );
    expect(result.all).toMatch(new RegExp(`${escaped(failing.file)} \\(e2e\\): exit 1 the run failed`));
    expect(result.all).toMatch(/\[nightly\] exit 1 \(the run failed/);
  });

  it('--dry-run starts nothing and removes nothing, listing what would go', async () => {
    const plan = quickPlan();
    const planDir = seedRuns(plan.outDir, ['20200101-000000', '20200102-000000']);

    const result = await startNightly([plan.file, '--keep', '1', '--dry-run']);
    expect(result.exitCode, result.all).toBe(0);
    expect(result.all).toContain('dry run: nothing is started');
    expect(result.all).toContain(`would remove ${join(planDir, '20200101-000000')}`);
    expect(result.all).toMatch(/1 kept, 1 would be removed/);
    expect(readdirSync(planDir).sort()).toEqual([
      '20200101-000000',
      '20200102-000000',
      'README.txt',
      'notes',
    ]);
  });

  it('keeps folders younger than --keep-days and never touches anything when no retention is given', async () => {
    const plan = quickPlan();
    const planDir = seedRuns(plan.outDir, ['20200101-000000']);
    const untouched = await startNightly([plan.file, '--dry-run']);
    expect(untouched.all).toMatch(/1 kept, 0 would be removed/);
    const pruned = await startNightly([plan.file, '--dry-run', '--keep-days', '30']);
    expect(pruned.all).toContain(`would remove ${join(planDir, '20200101-000000')}`);
    expect(existsSync(join(planDir, '20200101-000000'))).toBe(true);
  });

  it('on Ctrl-C forwards it once, starts no further plan, prunes nothing and exits 130', async () => {
    const slow = writeSimPlan({ sim: { VLLM_SIM_TOKEN_LATENCY_MS: '20' } });
    const next = quickPlan();
    const planDir = seedRuns(slow.outDir, ['20200101-000000']);
    const nightly = startNightly([slow.file, next.file, '--keep', '1']);
    let output = '';
    nightly.all?.on('data', (chunk: Buffer) => (output += chunk.toString()));
    await waitFor(() => /ready at/.test(output), 30_000, 'the first plan to be ready');
    nightly.kill('SIGINT');
    const result = await nightly;
    expect(result.exitCode, result.all).toBe(130);
    // Once: a second SIGINT would have made evalrig kill the server at once.
    expect(result.all.match(/SIGINT received/g)).toHaveLength(1);
    expect(result.all).not.toContain('SIGKILL');
    expect(result.all).toContain(`${next.file} (e2e): not run (interrupted before it started)`);
    expect(result.all).toContain('not pruned (interrupted)');
    expect(existsSync(join(planDir, '20200101-000000'))).toBe(true);
  });

  it('orders exit codes: interrupted > failed > gate failed > ok', async () => {
    const { worstExitCode } = (await import(
      pathToFileURL(join(ROOT, 'scripts/lib/exit-severity.mjs')).href
    )) as {
      worstExitCode: (codes: number[]) => number;
    };
    expect(worstExitCode([])).toBe(0);
    expect(worstExitCode([0, 3, 0])).toBe(3);
    expect(worstExitCode([3, 1, 0])).toBe(1);
    expect(worstExitCode([0, 4, 2, 1])).toBe(4);
    expect(worstExitCode([1, 143, 130])).toBe(143);
  });
});
