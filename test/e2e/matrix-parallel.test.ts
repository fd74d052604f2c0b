import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import type { Manifest } from '../../src/run/manifest.js';
import type { MatrixSummary } from '../../src/run/summary.js';
import { expectServerGone, readJson, startCli, waitFor, writeSimPlan } from './cli-helpers.js';

/** A sim plan on `port: auto` with a matrix of `max_parallel` and the given variants (name → YAML overrides). */
function parallelPlan(maxParallel: number, variants: Record<string, string>, sim: Record<string, string>) {
  const { file } = writeSimPlan({ server: { port: 'auto' }, eval: { limit: 4 }, sim });
  const matrix = [
    'matrix:',
    `  max_parallel: ${maxParallel}`,
    '  variants:',
    ...Object.entries(variants).flatMap(([name, set]) => [`    - name: ${name}`, `      set: { ${set} }`]),
    '',
  ];
  const base = readFileSync(file, 'utf8');
  writeFileSync(file, base + matrix.join('\n'));
  return { file, base };
}

/** The matrix folder is the last run directory printed: each variant's own report names its folder first. */
function matrixDirFrom(output: string): string {
  const dirs = [...output.matchAll(/^Run directory: (.+)$/gm)].map((match) => match[1]!.trim());
  if (dirs.length === 0) throw new Error(`no run directory in output:\n${output}`);
  return dirs.at(-1)!;
}

const windowOf = (summary: MatrixSummary, name: string) => {
  const variant = summary.variants.find((v) => v.name === name)?.summary;
  if (!variant) throw new Error(`no variant ${name} in the matrix summary`);
  return { start: Date.parse(variant.started_at), end: Date.parse(variant.finished_at) };
};

const portOf = (runDir: string) =>
  new URL(readJson<Manifest>(join(runDir, 'manifest.json')).server.base_url!).port;

describe.concurrent('a matrix with max_parallel', () => {
  it('runs variants at once on ports of their own; a failed one stops no other and sets the exit code', async () => {
    const { file } = parallelPlan(
      2,
      {
        one: 'server.seed: 1',
        broken: 'server.env.VLLM_SIM_FAULT: "crash_on_load:cuda_oom"',
        two: 'server.seed: 2',
      },
      { VLLM_SIM_LOAD_TIME: '1', VLLM_SIM_TOKEN_LATENCY_MS: '5' },
    );
    const result = await startCli(['plan', file, '--skip-preflight']);
    expect(result.exitCode, result.all).toBe(1);
    const matrixDir = matrixDirFrom(result.stdout);
    const summary = readJson<MatrixSummary>(join(matrixDir, 'summary.json'));
    expect(summary).toMatchObject({ status: 'failed', exit_code: 1, max_parallel: 2, failed: ['broken'] });
    expect(summary.not_started).toEqual([]);
    expect(summary.variants.map((v) => [v.name, v.summary.status])).toEqual([
      ['one', 'ok'],
      ['broken', 'failed'],
      ['two', 'ok'],
    ]);
    expect(result.stdout).toContain('Matrix: 1 of 3 variants failed: broken');
    expect(readFileSync(join(matrixDir, 'report.md'), 'utf8')).toContain('1 of 3 variants failed: broken');

    // The first two started together and were up at the same time; the third waited for a free slot.
    const [one, broken, two] = ['one', 'broken', 'two'].map((name) => windowOf(summary, name));
    expect(Math.max(one!.start, broken!.start)).toBeLessThan(Math.min(one!.end, broken!.end));
    expect(two!.start).toBeGreaterThanOrEqual(Math.min(one!.end, broken!.end));
    expect(portOf(join(matrixDir, 'one'))).not.toBe(portOf(join(matrixDir, 'broken')));

    // Each line of a running variant says whose it is; each variant's report comes whole, as it ends.
    expect(result.stderr).toMatch(/\[one\] vLLM \S+ ready at/);
    expect(result.stderr).toMatch(/\[two\] quiz: 4\/8 done/);
    expect(result.stderr).toMatch(/\[broken\] teardown: /);
    for (const name of ['one', 'two']) {
      const report = result.stdout.split(`=== matrix variant ${name}: ok ===`)[1]?.split('Run directory:')[0];
      expect(report, result.stdout).toMatch(/OVERALL/);
      expect(report).not.toContain('=== matrix variant');
    }
    for (const name of ['one', 'broken', 'two']) expectServerGone(join(matrixDir, name));
  });

  it('Ctrl-C stops every running variant, starts no other, writes the summary; resume runs only what did not end ok', async () => {
    const variants = { a: 'server.seed: 1', b: 'server.seed: 2', c: 'server.seed: 3' };
    const { file, base } = parallelPlan(2, variants, { VLLM_SIM_TOKEN_LATENCY_MS: '100' });
    const child = startCli(['plan', file, '--skip-preflight']);
    let output = '';
    child.all.on('data', (chunk: Buffer) => (output += chunk.toString()));
    await waitFor(
      () => /\[a\] quiz: \d+ samples/.test(output) && /\[b\] quiz: \d+ samples/.test(output),
      30_000,
      'both variants to evaluate',
    );
    child.kill('SIGINT');
    const stopped = await child;
    expect(stopped.exitCode, stopped.all).toBe(130);
    const matrixDir = matrixDirFrom(stopped.stdout);
    const summary = readJson<MatrixSummary>(join(matrixDir, 'summary.json'));
    expect(summary).toMatchObject({ status: 'interrupted', exit_code: 130, not_started: ['c'] });
    expect(summary.variants.map((v) => [v.name, v.summary.status])).toEqual([
      ['a', 'interrupted'],
      ['b', 'interrupted'],
    ]);
    expect(stopped.stdout).toContain('interrupted: 2 (a, b); not started: 1 (c)');
    expect(existsSync(join(matrixDir, 'c'))).toBe(false);
    for (const name of ['a', 'b']) expectServerGone(join(matrixDir, name));

    // Resumed on a fast server with b broken: a and c end ok, b fails.
    const fast = base.replace(/VLLM_SIM_TOKEN_LATENCY_MS: .*$/m, 'VLLM_SIM_TOKEN_LATENCY_MS: "0"');
    expect(fast).not.toBe(base);
    const withMatrix = (set: Record<string, string>) =>
      writeFileSync(
        file,
        fast +
          ['matrix:', '  max_parallel: 2', '  variants:']
            .concat(
              Object.entries(set).flatMap(([name, s]) => [`    - name: ${name}`, `      set: { ${s} }`]),
            )
            .join('\n') +
          '\n',
      );
    withMatrix({ ...variants, b: 'server.seed: 2, server.env.VLLM_SIM_FAULT: "crash_on_load:kv_cache"' });
    const second = await startCli(['plan', file, '--skip-preflight', '--resume', matrixDir]);
    expect(second.exitCode, second.all).toBe(1);
    expect(second.stdout).toContain('Matrix: 1 of 3 variants failed: b');

    // Resumed again, healthy: only b runs.
    withMatrix(variants);
    const third = await startCli(['plan', file, '--skip-preflight', '--resume', matrixDir]);
    expect(third.exitCode, third.all).toBe(0);
    expect(third.all).toContain('matrix variant a: ended ok in an earlier attempt, not run again');
    expect(third.all).toContain('matrix variant c: ended ok in an earlier attempt, not run again');
    expect(third.stdout).toContain('Matrix: all 3 variants ended ok');
    const attempts = (name: string) =>
      readJson<Manifest>(join(matrixDir, name, 'manifest.json')).attempts.length;
    expect([attempts('a'), attempts('b'), attempts('c')]).toEqual([2, 3, 1]);
    for (const name of ['a', 'b', 'c']) expectServerGone(join(matrixDir, name));
  });
});
