import { describe, expect, it } from 'vitest';
import type { CheckResult } from '../../../src/host/checks/types.js';
import { renderChecksJson, renderChecksTable, summarizeChecks } from '../../../src/host/report.js';

const RESULTS: CheckResult[] = [
  { id: 'gpus', title: 'GPUs', status: 'ok', detail: '1 GPU (0: NVIDIA H200)', fix: null },
  {
    id: 'gpu-memory:0',
    title: 'GPU 0 memory',
    status: 'error',
    detail: 'free 8.5 of 79.6 GiB',
    fix: 'Kill 48213 (likely left by a killed run), or lower gpu_memory_utilization to 0.09 or less.',
  },
  {
    id: 'evalscope',
    title: 'EvalScope',
    status: 'warning',
    detail: 'not found',
    fix: 'pip install evalscope',
  },
  { id: 'port', title: 'Port', status: 'skipped', detail: 'not probed', fix: null },
];

describe('renderChecksTable', () => {
  it('aligns titles and puts each fix under its detail', () => {
    expect(renderChecksTable(RESULTS).split('\n')).toEqual([
      '  ✓  GPUs          1 GPU (0: NVIDIA H200)',
      '  ✗  GPU 0 memory  free 8.5 of 79.6 GiB',
      '                   fix: Kill 48213 (likely left by a killed run), or lower gpu_memory_utilization to 0.09 or less.',
      '  !  EvalScope     not found',
      '                   fix: pip install evalscope',
      '  –  Port          not probed',
      '',
      '1 error and 1 warning: fix the errors before running a plan.',
    ]);
  });

  it('colours only the symbol', () => {
    const line = renderChecksTable([RESULTS[1] as CheckResult], { color: true }).split('\n')[0];
    expect(line).toBe('  \u001b[31m✗\u001b[0m  GPU 0 memory  free 8.5 of 79.6 GiB');
  });
});

describe('summarizeChecks', () => {
  it.each([
    [[RESULTS[0]], 'All checks passed.'],
    [[RESULTS[0], RESULTS[2]], 'No errors, 1 warning: a plan can run; read the warnings.'],
    [[RESULTS[1], RESULTS[1]], '2 errors: fix the errors before running a plan.'],
  ])('%#', (results, text) => {
    expect(summarizeChecks(results as CheckResult[])).toBe(text);
  });
});

describe('renderChecksJson', () => {
  it('gives the verdict, the counts and every check', () => {
    expect(JSON.parse(renderChecksJson(RESULTS))).toEqual({
      ok: false,
      counts: { ok: 1, warning: 1, error: 1, skipped: 1 },
      checks: RESULTS,
    });
  });
});
